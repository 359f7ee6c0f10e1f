#include "libnet/nft.hpp"

#include "libnet/nf_socket.hpp"

#include <dlfcn.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>

#include <cerrno>
#include <memory>
#include <mutex>
#include <vector>

namespace tether::net {

namespace {

// The libnftables entry points we use (see <nftables/libnftables.h>).
struct Api {
    void* (*ctxNew)(uint32_t) = nullptr;
    void (*ctxFree)(void*) = nullptr;
    int (*bufferOutput)(void*) = nullptr;
    int (*bufferError)(void*) = nullptr;
    const char* (*outputBuffer)(void*) = nullptr;
    const char* (*errorBuffer)(void*) = nullptr;
    void (*setOutputFlags)(void*, unsigned) = nullptr;
    unsigned (*getOutputFlags)(void*) = nullptr;
    int (*runBuffer)(void*, const char*) = nullptr;
    std::string loadError;
};

constexpr unsigned kOutputJson = 1u << 4; // NFT_CTX_OUTPUT_JSON

const Api& api() {
    static Api a;
    static std::once_flag once;
    std::call_once(once, [] {
        void* h = ::dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            a.loadError = ::dlerror();
            return;
        }
        auto sym = [h](const char* name) { return ::dlsym(h, name); };
        a.ctxNew = reinterpret_cast<void* (*)(uint32_t)>(sym("nft_ctx_new"));
        a.ctxFree = reinterpret_cast<void (*)(void*)>(sym("nft_ctx_free"));
        a.bufferOutput = reinterpret_cast<int (*)(void*)>(sym("nft_ctx_buffer_output"));
        a.bufferError = reinterpret_cast<int (*)(void*)>(sym("nft_ctx_buffer_error"));
        a.outputBuffer = reinterpret_cast<const char* (*)(void*)>(sym("nft_ctx_get_output_buffer"));
        a.errorBuffer = reinterpret_cast<const char* (*)(void*)>(sym("nft_ctx_get_error_buffer"));
        a.setOutputFlags =
            reinterpret_cast<void (*)(void*, unsigned)>(sym("nft_ctx_output_set_flags"));
        a.getOutputFlags = reinterpret_cast<unsigned (*)(void*)>(sym("nft_ctx_output_get_flags"));
        a.runBuffer = reinterpret_cast<int (*)(void*, const char*)>(sym("nft_run_cmd_from_buffer"));
        if (!a.ctxNew || !a.runBuffer || !a.errorBuffer || !a.outputBuffer)
            a.loadError = "libnftables.so.1 lacks the expected symbols";
    });
    return a;
}

} // namespace

Expected<Nft> Nft::open() {
    const Api& a = api();
    if (!a.loadError.empty())
        return fail(Code::NotAvailable, "nftables support unavailable: " + a.loadError,
                    "install the libnftables1 package");
    void* ctx = a.ctxNew(0);
    if (!ctx) return fail(Code::Kernel, "nftables: cannot create a context");
    a.bufferOutput(ctx);
    a.bufferError(ctx);
    return Nft(ctx);
}

Nft::~Nft() {
    if (!ctx_) return;
    api().ctxFree(ctx_);
}

Status Nft::run(std::string_view script, std::string_view what) {
    const Api& a = api();
    a.setOutputFlags(ctx_, a.getOutputFlags(ctx_) & ~kOutputJson);
    std::string buf(script);
    if (a.runBuffer(ctx_, buf.c_str()) == 0) return {};
    std::string err = a.errorBuffer(ctx_);
    Error e{Code::Kernel, std::string(what), err, 0};
    if (err.find("File exists") != std::string::npos)
        e.errnum = EEXIST;
    else if (err.find("No such file or directory") != std::string::npos)
        e.errnum = ENOENT;
    auto firstLine = err.substr(0, err.find('\n'));
    e.msg += ": " + firstLine;
    return std::unexpected(std::move(e));
}

Expected<std::string> Nft::listJson(std::string_view command, std::string_view what) {
    const Api& a = api();
    a.setOutputFlags(ctx_, a.getOutputFlags(ctx_) | kOutputJson);
    std::string buf(command);
    int rc = a.runBuffer(ctx_, buf.c_str());
    a.setOutputFlags(ctx_, a.getOutputFlags(ctx_) & ~kOutputJson);
    if (rc != 0) {
        std::string err = a.errorBuffer(ctx_);
        Error e{Code::Kernel, std::string(what) + ": " + err.substr(0, err.find('\n')), err, 0};
        if (err.find("No such file or directory") != std::string::npos) e.errnum = ENOENT;
        return std::unexpected(std::move(e));
    }
    return std::string(a.outputBuffer(ctx_));
}

Expected<bool> nftTableExists(uint8_t family, const std::string& name) {
    auto s = TRY(leaseNetfilterSocket("get nft table " + name));
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    nlh->nlmsg_seq = 1;
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = family;
    nfg->version = NFNETLINK_V0;
    nfg->res_id = 0;
    mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, name.c_str());
    if (mnl_socket_sendto(s.get(), nlh, nlh->nlmsg_len) < 0)
        return failErrno("get nft table", errno);
    // Replies: the table (NEWTABLE) then the ack, or an error.
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(s.get(), buf.data(), buf.size());
        if (n < 0) return failErrno("get nft table", errno);
        int rc =
            mnl_cb_run(buf.data(), size_t(n), 1, mnl_socket_get_portid(s.get()), nullptr, nullptr);
        if (rc == MNL_CB_STOP) return true;
        if (rc < 0) {
            if (errno == ENOENT) return false;
            return failErrno("get nft table " + name, errno);
        }
    }
}

} // namespace tether::net
