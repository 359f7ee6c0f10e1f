#include "nat/firewall_dbus.hpp"

#include <dlfcn.h>
#include <systemd/sd-bus.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace tether::nat::fw {

namespace {

constexpr const char* kPath = "/org/fedoraproject/FirewallD1";
constexpr const char* kZoneIface = "org.fedoraproject.FirewallD1.zone";
constexpr const char* kBackend = "firewall backend \"firewalld\": ";

// The few sd-bus entry points we use, resolved from libsystemd.so.0 on first use.
struct SdBus {
    decltype(&sd_bus_open_system) openSystem = nullptr;
    decltype(&sd_bus_flush_close_unref) closeUnref = nullptr;
    decltype(&sd_bus_call_method) callMethod = nullptr;
    decltype(&sd_bus_message_read) messageRead = nullptr;
    decltype(&sd_bus_message_unref) messageUnref = nullptr;
    decltype(&sd_bus_error_free) errorFree = nullptr;
};

Expected<const SdBus*> lib() {
    static SdBus s;
    static std::string err;
    static bool loaded = [] {
        void* h = ::dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            err = ::dlerror();
            return false;
        }
        auto sym = [&](auto& fn, const char* name) {
            fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(h, name));
            if (!fn) err = std::string("missing symbol ") + name;
            return fn != nullptr;
        };
        return sym(s.openSystem, "sd_bus_open_system") &&
               sym(s.closeUnref, "sd_bus_flush_close_unref") &&
               sym(s.callMethod, "sd_bus_call_method") &&
               sym(s.messageRead, "sd_bus_message_read") &&
               sym(s.messageUnref, "sd_bus_message_unref") && sym(s.errorFree, "sd_bus_error_free");
    }();
    if (!loaded)
        return fail(Code::NotAvailable,
                    std::string(kBackend) + "cannot load libsystemd.so.0 (sd-bus)", err);
    return &s;
}

// A connection to the system bus and the calls we make on it.
class Bus {
  public:
    static Expected<Bus> open() {
        const SdBus* l = TRY(lib());
        sd_bus* b = nullptr;
        if (int r = l->openSystem(&b); r < 0)
            return fail(Code::NotAvailable,
                        std::string(kBackend) +
                            "cannot connect to the D-Bus system bus: " + std::strerror(-r));
        return Bus(l, b);
    }
    Bus(Bus&& o) noexcept : l_(o.l_), bus_(o.bus_) { o.bus_ = nullptr; }
    Bus(const Bus&) = delete;
    Bus& operator=(const Bus&) = delete;
    Bus& operator=(Bus&&) = delete;
    ~Bus() {
        if (bus_) l_->closeUnref(bus_);
    }

    /// Whether `name` has an owner (org.freedesktop.DBus.NameHasOwner).
    Expected<bool> hasOwner(const char* name) {
        return callBool("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                        "NameHasOwner", name);
    }

    /// Calls `method(zone, source)` on firewalld's zone interface; `reply` is its reply type
    /// ("s" or "b"). Returns the D-Bus error name and message on failure (empty when none), and
    /// for "b" the boolean in `flag`.
    std::string callZone(const char* method, const std::string& zone, const std::string& source,
                         char reply, bool* flag) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message* m = nullptr;
        int r = l_->callMethod(bus_, kFirewalldName, kPath, kZoneIface, method, &e, &m, "ss",
                               zone.c_str(), source.c_str());
        std::string err;
        if (r < 0) {
            err = std::string(e.name ? e.name : "") + ": " +
                  (e.message ? e.message : std::strerror(-r));
        } else if (reply == 'b') {
            int v = 0;
            if (l_->messageRead(m, "b", &v) < 0) err = "unexpected reply to " + std::string(method);
            if (flag) *flag = v != 0;
        }
        l_->errorFree(&e);
        if (m) l_->messageUnref(m);
        return err;
    }

  private:
    Bus(const SdBus* l, sd_bus* b) : l_(l), bus_(b) {}
    Expected<bool> callBool(const char* dest, const char* path, const char* iface,
                            const char* method, const char* arg) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message* m = nullptr;
        int r = l_->callMethod(bus_, dest, path, iface, method, &e, &m, "s", arg);
        int v = 0;
        std::string err = r < 0 ? std::string(e.message ? e.message : std::strerror(-r)) : "";
        if (r >= 0 && l_->messageRead(m, "b", &v) < 0)
            err = "unexpected reply to " + std::string(method);
        l_->errorFree(&e);
        if (m) l_->messageUnref(m);
        if (!err.empty())
            return fail(Code::NotAvailable,
                        std::string(kBackend) + method + " on the system bus: " + err);
        return v != 0;
    }
    const SdBus* l_;
    sd_bus* bus_;
};

Expected<Bus> connect() {
    auto bus = TRY(Bus::open());
    if (!TRY(bus.hasOwner(kFirewalldName)))
        return fail(Code::NotAvailable, std::string(kBackend) + "firewalld is not running (" +
                                            kFirewalldName + " has no owner on the system bus)");
    return bus;
}

std::string source(const net::IpAddress& ip) {
    return ip.str() + (ip.isV4() ? "/32" : "/128");
}

} // namespace

Status firewalldAvailable() {
    TRY(connect());
    return {};
}

Status firewalldAdd(const std::string& zone, const std::vector<net::IpAddress>& ips) {
    auto bus = TRY(connect());
    for (const auto& ip : ips) {
        std::string err = bus.callZone("addSource", zone, source(ip), 's', nullptr);
        if (!err.empty() && err.find("ZONE_ALREADY_SET") == std::string::npos)
            return fail(Code::Kernel,
                        "add " + source(ip) + " to firewalld zone " + zone + ": " + err);
    }
    return {};
}

Status firewalldRemove(const std::string& zone, const std::vector<net::IpAddress>& ips) {
    auto bus = connect();
    if (!bus) return {}; // firewalld gone: its runtime sources went with it
    std::string errors;
    for (const auto& ip : ips) {
        std::string err = bus->callZone("removeSource", zone, source(ip), 's', nullptr);
        if (!err.empty() && err.find("UNKNOWN_SOURCE") == std::string::npos &&
            err.find("NOT_ENABLED") == std::string::npos)
            errors += (errors.empty() ? "" : "; ") + source(ip) + ": " + err;
    }
    if (!errors.empty())
        return fail(Code::Kernel, "remove sources from firewalld zone " + zone, errors);
    return {};
}

Status firewalldCheck(const std::string& zone, const std::vector<net::IpAddress>& ips) {
    auto bus = TRY(connect());
    for (const auto& ip : ips) {
        bool present = false;
        std::string err = bus.callZone("querySource", zone, source(ip), 'b', &present);
        if (!err.empty() || !present)
            return fail(Code::Internal, "source " + source(ip) + " is not in firewalld zone " +
                                            zone + (err.empty() ? "" : ": " + err));
    }
    return {};
}

} // namespace tether::nat::fw
