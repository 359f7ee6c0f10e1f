#include "plugins/dhcp/lease.hpp"

#include <algorithm>
#include <cstdio>
#include <random>

namespace tether::dhcp {

namespace {

uint32_t newXid() {
    static thread_local std::mt19937 gen{std::random_device{}()};
    return uint32_t(gen());
}

void logf(const LeaseParams& p, const std::string& what) {
    std::fprintf(stderr, "dhcp: %s (%s): %s\n", p.clientId.c_str(), p.ifname.c_str(), what.c_str());
}

std::string cidr(Ip4 dst, int prefix) {
    return ip4String(dst) + "/" + std::to_string(prefix);
}

int classPrefix(Ip4 a) {
    if ((a >> 31) == 0) return 8;
    if ((a >> 30) == 2) return 16;
    return 24;
}

std::vector<std::string> addressList(const ServerMessage& m, uint8_t code) {
    std::vector<std::string> out;
    auto it = m.options.find(code);
    if (it == m.options.end()) return out;
    for (size_t i = 0; i + 4 <= it->second.size(); i += 4) {
        const uint8_t* b = &it->second[i];
        out.push_back(ip4String(Ip4(b[0]) << 24 | Ip4(b[1]) << 16 | Ip4(b[2]) << 8 | b[3]));
    }
    return out;
}

// The text of a string option (15, domain name) as JSON can carry it: cut at the first NUL (some
// servers terminate the string; JSON texts with NUL are refused by cni::parseJsonChecked), bytes
// that are not valid UTF-8 replaced by U+FFFD, as the reference's JSON encoder does. A server on
// the container's link chooses these bytes: left raw, they made every dump() of the result throw.
std::string textOption(const std::vector<uint8_t>& v) {
    const size_t n = size_t(std::find(v.begin(), v.end(), uint8_t(0)) - v.begin());
    const nlohmann::json raw = std::string(v.begin(), v.begin() + ptrdiff_t(n));
    return nlohmann::json::parse(raw.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
        .get<std::string>();
}

// Fills the lease times from an ACK: option 51 (default 1 h when absent), T1/T2 from options
// 58/59 or 1/2 and 7/8 of the lease (RFC 2131 4.4.5).
LeaseState stateOf(const ServerMessage& ack) {
    LeaseState s;
    s.ack = ack;
    s.address = ack.yiaddr;
    s.server = ack.address(opt::ServerId).value_or(ack.siaddr);
    s.acquiredMs = monotonicMs();
    s.leaseSec = std::max<uint32_t>(ack.u32(opt::LeaseTime).value_or(3600), 2);
    s.t1Sec = ack.u32(opt::RenewalTime).value_or(s.leaseSec / 2);
    s.t2Sec = ack.u32(opt::RebindingTime).value_or(uint32_t(uint64_t(s.leaseSec) * 7 / 8));
    s.t2Sec = std::min(std::max(s.t2Sec, 1u), s.leaseSec);
    s.t1Sec = std::min(std::max(s.t1Sec, 1u), s.t2Sec);
    return s;
}

} // namespace

cni::Result resultOf(const ServerMessage& ack) {
    cni::Result r;
    r.cniVersion = "1.1.0";
    int prefix = classPrefix(ack.yiaddr);
    if (auto mask = ack.address(opt::SubnetMask))
        if (auto p = maskPrefix(*mask)) prefix = *p;
    const auto router = ack.address(opt::Router);
    r.ips.push_back(
        {cidr(ack.yiaddr, prefix), router ? ip4String(*router) : std::string(), std::nullopt});
    for (const auto& route : leaseRoutes(ack)) {
        cni::Route cr;
        cr.dst = cidr(route.dst, route.prefix);
        if (route.gw) cr.gw = ip4String(route.gw);
        r.routes.push_back(cr);
    }
    r.dns.nameservers = addressList(ack, opt::DnsServers);
    if (auto it = ack.options.find(opt::DomainName); it != ack.options.end())
        r.dns.domain = textOption(it->second);
    return r;
}

ClientMessage Lease::message(MsgType type, uint32_t xid) const {
    ClientMessage m;
    m.type = type;
    m.xid = xid;
    m.mac = sock_.mac();
    m.broadcast = params_.broadcast;
    m.options = params_.provide;
    if (type != MsgType::Release) m.paramRequest = params_.paramRequest;
    return m;
}

Expected<std::unique_ptr<Lease>> Lease::acquire(const LeaseParams& params) {
    const int64_t deadline = monotonicMs() + params.timeoutMs;
    auto ns = TRY(net::Netns::open(params.netns));
    auto sock = TRY(DhcpSocket::open(ns, params.ifname, params.timeoutMs));
    auto lease = std::unique_ptr<Lease>(new Lease(params, std::move(sock), {}));
    // The first DISCOVER often goes out before the runtime has attached the host side of the
    // link: start retransmitting quickly (250 ms, doubling up to resendMaxMs).
    int gapMs = 250;
    auto nextWait = [&] {
        int w = gapMs;
        gapMs = std::min(gapMs * 2, std::max(params.resendMaxMs, 250));
        return int(std::min<int64_t>(w, std::max<int64_t>(deadline - monotonicMs(), 0)));
    };
    while (monotonicMs() < deadline) {
        // SELECTING: broadcast DISCOVER until an OFFER arrives.
        const uint32_t xid = newXid();
        const auto discover = encode(lease->message(MsgType::Discover, xid));
        std::optional<ServerMessage> offer;
        while (!offer && monotonicMs() < deadline) {
            TRY(lease->sock_.sendBroadcast(discover));
            const int64_t until = monotonicMs() + nextWait();
            while (!offer) {
                auto m = lease->sock_.receive(xid, until);
                if (!m) break;
                if (m->type == MsgType::Offer && m->yiaddr) offer = m;
            }
        }
        if (!offer) break;
        // REQUESTING: the offered address from the offering server.
        auto req = lease->message(MsgType::Request, xid);
        req.requestedIp = offer->yiaddr;
        req.serverId = offer->address(opt::ServerId).value_or(offer->siaddr);
        const auto request = encode(req);
        gapMs = 500;
        std::optional<ServerMessage> answer;
        for (int attempt = 0; attempt < 4 && !answer && monotonicMs() < deadline; ++attempt) {
            TRY(lease->sock_.sendBroadcast(request));
            const int64_t until = monotonicMs() + nextWait();
            while (!answer) {
                auto m = lease->sock_.receive(xid, until);
                if (!m) break;
                if (m->type == MsgType::Ack || m->type == MsgType::Nak) answer = m;
            }
        }
        if (answer && answer->type == MsgType::Ack && answer->yiaddr) {
            lease->state_ = stateOf(*answer);
            lease->state_.serverMac = lease->sock_.lastPeerMac();
            logf(params, "leased " + ip4String(answer->yiaddr) + " from " +
                             ip4String(lease->state_.server) + " for " +
                             std::to_string(lease->state_.leaseSec) + " s");
            lease->thread_ = std::thread([l = lease.get()] { l->maintain(); });
            return lease;
        }
        if (answer) logf(params, "NAK from the server, discovering again");
        gapMs = 250;
    }
    return fail(Code::TryAgainLater,
                "no DHCP lease for " + params.ifname + " in " + params.netns + " within " +
                    std::to_string(params.timeoutMs) + " ms",
                "is a DHCP server reachable from the interface?");
}

Lease::Lease(LeaseParams params, DhcpSocket sock, LeaseState state)
    : params_(std::move(params)), sock_(std::move(sock)), state_(std::move(state)) {}

Lease::~Lease() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

bool Lease::refresh(bool rebind, int waitMs) {
    const uint32_t xid = newXid();
    LeaseState s = state();
    auto m = message(MsgType::Request, xid);
    m.ciaddr = s.address;
    const auto bytes = encode(m);
    // RENEWING: unicast to the server; REBINDING: broadcast to any server.
    if (rebind)
        (void)sock_.sendBroadcast(bytes, s.address);
    else
        (void)sock_.sendUnicast(bytes, s.address, s.server, s.serverMac);
    const int64_t until = monotonicMs() + waitMs;
    while (auto reply = sock_.receive(xid, until)) {
        if (reply->type == MsgType::Nak) {
            logf(params_, "NAK on " + std::string(rebind ? "rebind" : "renew") + ": lease lost");
            std::lock_guard lock(mu_);
            lost_ = true;
            return false;
        }
        if (reply->type != MsgType::Ack) continue;
        if (reply->yiaddr != s.address) {
            logf(params_, "server moved us to " + ip4String(reply->yiaddr) + ": lease lost");
            std::lock_guard lock(mu_);
            lost_ = true;
            return false;
        }
        std::lock_guard lock(mu_);
        state_ = stateOf(*reply);
        state_.serverMac = sock_.lastPeerMac();
        ++renewals_;
        return true;
    }
    return false;
}

void Lease::maintain() {
    std::unique_lock lock(mu_);
    while (!stop_ && !lost_) {
        const int64_t base = state_.acquiredMs;
        const int64_t t1 = base + int64_t(state_.t1Sec) * 1000;
        const int64_t t2 = base + int64_t(state_.t2Sec) * 1000;
        const int64_t end = base + int64_t(state_.leaseSec) * 1000;
        const int64_t now = monotonicMs();
        if (now < t1) {
            cv_.wait_for(lock, std::chrono::milliseconds(t1 - now));
            continue;
        }
        if (now >= end) {
            lost_ = true;
            lock.unlock();
            logf(params_, "lease of " + ip4String(state_.address) + " expired");
            return;
        }
        const bool rebind = now >= t2;
        // Retransmit halfway to the next deadline (RFC 2131 4.4.5), at least 1 s apart.
        const int64_t wait = std::clamp<int64_t>(((rebind ? end : t2) - now) / 2, 1000, 60'000);
        lock.unlock();
        const bool acked = refresh(rebind, int(wait));
        if (acked)
            logf(params_, std::string(rebind ? "rebound " : "renewed ") +
                              ip4String(state().address) + " for " +
                              std::to_string(state().leaseSec) + " s");
        lock.lock();
        if (!acked && !stop_ && !lost_) {
            // The answer window passed without an ACK: try again after the rest of `wait`.
            continue;
        }
    }
}

void Lease::release() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    std::lock_guard lock(mu_);
    if (released_ || lost_) {
        released_ = true;
        return;
    }
    released_ = true;
    auto m = message(MsgType::Release, newXid());
    m.ciaddr = state_.address;
    m.serverId = state_.server;
    const auto bytes = encode(m);
    if (auto st = sock_.sendUnicast(bytes, state_.address, state_.server, state_.serverMac); !st)
        logf(params_, "RELEASE not sent: " + st.error().msg);
    logf(params_, "released " + ip4String(state_.address));
}

bool Lease::alive() const {
    std::lock_guard lock(mu_);
    return !lost_ && !released_;
}

LeaseState Lease::state() const {
    std::lock_guard lock(mu_);
    return state_;
}

unsigned Lease::renewals() const {
    std::lock_guard lock(mu_);
    return renewals_;
}

} // namespace tether::dhcp
