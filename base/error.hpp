// The one error type of tether: a CNI error code, a message naming the object, optional details
// and the errno that caused it. Every fallible function returns Expected<T>.
#pragma once

#include <cerrno>
#include <cstring>
#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace tether {

/// CNI error codes (spec table) plus the reference's extras and our own (100+).
enum class Code : unsigned {
    IncompatibleVersion = 1,  ///< config version not supported by the plugin
    UnsupportedField = 2,     ///< a key/value we do not support; msg names key and value
    UnknownContainer = 3,     ///< container unknown or missing containerID
    InvalidEnv = 4,           ///< missing/invalid CNI_* variables; msg names them
    IoFailure = 5,            ///< reading stdin, files
    DecodeFailure = 6,        ///< JSON that cannot be parsed / has wrong types
    InvalidConfig = 7,        ///< well-formed config with invalid values
    InvalidNetns = 8,         ///< CNI_NETNS is not a netns or is our own
    TryAgainLater = 11,       ///< transient; the runtime may retry
    NotAvailable = 50,        ///< STATUS: cannot service ADD
    NotAvailableLimited = 51, ///< STATUS: and existing containers may be affected
    Kernel = 100,             ///< a netlink/syscall failure (errno in errnum)
    Exhausted = 101,          ///< no free address in a range
    Conflict = 102,           ///< the object exists / is owned by someone else
    Internal = 999,           ///< anything else (matches the reference's ErrInternal)
};

/// An error carried by value. `msg` says what failed on which object
/// ("move veth1a2b to netns /run/netns/c1: Operation not permitted"); `details` holds extra
/// context (kernel extended ack text, the offending JSON position, ...).
struct Error {
    Code code = Code::Internal;
    std::string msg;
    std::string details;
    int errnum = 0; ///< errno when the failure came from the kernel, else 0

    /// Prefixes the message with what we were doing: err.wrap("add route 0.0.0.0/0").
    [[nodiscard]] Error wrap(std::string_view context) const& {
        Error e = *this;
        e.msg = std::string(context) + ": " + e.msg;
        return e;
    }
    [[nodiscard]] Error wrap(std::string_view context) && {
        msg = std::string(context) + ": " + msg;
        return std::move(*this);
    }
    /// Message plus details, for logs and CLI output.
    [[nodiscard]] std::string text() const {
        return details.empty() ? msg : msg + " (" + details + ")";
    }
};

template <class T> using Expected = std::expected<T, Error>;
using Status = std::expected<void, Error>;

/// Builds an unexpected Error. Usage: `return fail(Code::InvalidConfig, "bad mtu 70000");`
[[nodiscard]] inline std::unexpected<Error> fail(Code code, std::string msg,
                                                 std::string details = {}) {
    return std::unexpected(Error{code, std::move(msg), std::move(details), 0});
}

/// An Error from an errno value: msg becomes "<what>: <strerror(err)>".
[[nodiscard]] inline Error errnoError(std::string_view what, int err, Code code = Code::Kernel) {
    return Error{code, std::string(what) + ": " + std::strerror(err), {}, err};
}

/// std::unexpected of errnoError, for `return failErrno("open /run/x", errno);`.
[[nodiscard]] inline std::unexpected<Error> failErrno(std::string_view what, int err,
                                                      Code code = Code::Kernel) {
    return std::unexpected(errnoError(what, err, code));
}

} // namespace tether

/// Propagates the error of an Expected expression, else yields its value (GNU statement
/// expression, supported by g++ and clang). `auto link = TRY(findLink(...));`
#define TRY(expr)                                                                                  \
    ({                                                                                             \
        auto&& try_result_ = (expr);                                                               \
        if (!try_result_) return std::unexpected(std::move(try_result_).error());                  \
        std::move(try_result_).value();                                                            \
    })
