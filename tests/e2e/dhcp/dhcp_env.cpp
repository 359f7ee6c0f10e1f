#include "tests/e2e/dhcp/dhcp_env.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/support/scratch_netns.hpp"

namespace tether::test {

namespace fs = std::filesystem;

Background::Background(const std::vector<std::string>& argv, const std::string& log) {
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
        int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd >= 0) {
            ::dup2(fd, 1);
            ::dup2(fd, 2);
        }
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
}

int Background::stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

Background::~Background() {
    stop();
}

DhcpEnv::DhcpEnv(const std::string& bridge, bool reference, bool startDaemon) : bridge_(bridge) {
    REQUIRE(execHere({"ip", "link", "add", bridge, "type", "bridge"}).exitCode == 0);
    REQUIRE(execHere({"ip", "addr", "add", "10.40.0.1/24", "dev", bridge}).exitCode == 0);
    REQUIRE(execHere({"ip", "link", "set", bridge, "up"}).exitCode == 0);
    {
        std::ofstream conf(dir_ / "udhcpd.conf");
        conf << "start 10.40.0.100\nend 10.40.0.150\ninterface " << bridge << "\nlease_file "
             << (dir_ / "leases") << "\npidfile " << (dir_ / "udhcpd.pid")
             << "\nmin_lease 5\noption subnet 255.255.255.0\noption router 10.40.0.1\n"
                "option dns 10.40.0.53 10.40.0.54\noption domain example.test\noption lease 10\n";
    }
    std::ofstream(dir_ / "leases").close();
    server_ = std::make_unique<Background>(
        std::vector<std::string>{"busybox", "udhcpd", "-f", dir_ / "udhcpd.conf"},
        dir_ / "udhcpd.log");
    fs::create_directory(dir_ / "bin");
    const std::string from = reference ? std::string("/usr/lib/cni") : binDir();
    fs::create_symlink(from + "/bridge", dir_ / "bin/bridge");
    fs::create_symlink(from + "/dhcp", dir_ / "bin/dhcp");
    if (!startDaemon) return;
    daemon_ = std::make_unique<Background>(std::vector<std::string>{from + "/dhcp", "daemon",
                                                                    "-socketpath", socketPath(),
                                                                    "-timeout", "10s"},
                                           dir_ / "daemon.log");
    for (int i = 0; i < 100 && !fs::exists(socketPath()); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    INFO(daemonLog());
    REQUIRE(fs::exists(socketPath()));
}

DhcpEnv::~DhcpEnv() {
    daemon_.reset();
    server_.reset();
    execHere({"ip", "link", "del", bridge_});
}

std::string DhcpEnv::daemonLog() const {
    std::ifstream in(dir_ / "daemon.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::map<std::string, ServerLease> DhcpEnv::serverLeases() {
    const std::string file = dir_ / "leases";
    struct stat before {};
    ::stat(file.c_str(), &before);
    ::kill(server_->pid(), SIGUSR1);
    // Wait until udhcpd has rewritten the file (its mtime or size changes), at most 2 s.
    for (int i = 0; i < 40; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        struct stat now {};
        if (::stat(file.c_str(), &now) == 0 &&
            (now.st_mtim.tv_nsec != before.st_mtim.tv_nsec ||
             now.st_mtim.tv_sec != before.st_mtim.tv_sec || now.st_size != before.st_size))
            break;
    }
    std::map<std::string, ServerLease> out;
    auto r = execHere({"busybox", "dumpleases", "-r", "-d", "-f", file});
    std::istringstream lines(r.out);
    std::string line;
    std::getline(lines, line); // header
    while (std::getline(lines, line)) {
        // MAC, IP, host name (absent when the client sent none), expiry ("expired" or seconds).
        std::istringstream words(line);
        std::vector<std::string> w;
        for (std::string x; words >> x;)
            w.push_back(x);
        if (w.size() < 3 || w.size() > 4) continue;
        ServerLease l;
        l.ip = w[1];
        if (w.size() == 4) l.hostname = w[2];
        l.remainingSec = w.back() == "expired" ? -1 : std::stol(w.back());
        out[w[0]] = l;
    }
    return out;
}

} // namespace tether::test
