// A real DNS server for tests: dnsmasq from Debian, started on a free loopback port with only
// the records the test gives it (no /etc/hosts, no upstream resolvers, no config file), ready
// once it answers a query, stopped and reaped by the destructor. And DnsStub, a tiny UDP DNS
// server of the tests' own that answers SERVFAIL, answers late or never answers, for dnsmasq to
// forward a zone to.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace bot::testing {

namespace dns_wire {

inline std::vector<uint8_t> EncodeName(const std::string& name) {
  std::vector<uint8_t> out;
  size_t start = 0;
  while (start < name.size()) {
    size_t dot = name.find('.', start);
    std::string label = name.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    out.push_back(static_cast<uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  out.push_back(0);
  return out;
}

inline std::vector<uint8_t> Query(uint16_t id, const std::string& name, uint16_t type) {
  std::vector<uint8_t> q = {static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  auto n = EncodeName(name);
  q.insert(q.end(), n.begin(), n.end());
  q.insert(q.end(), {static_cast<uint8_t>(type >> 8), static_cast<uint8_t>(type), 0, 1});
  return q;
}

// The question's name (lower case) and type, and where the question ends; false if malformed.
inline bool ParseQuestion(const std::vector<uint8_t>& p, std::string& name, uint16_t& type, size_t& end) {
  if (p.size() < 12) return false;
  size_t i = 12;
  name.clear();
  while (i < p.size() && p[i] != 0) {
    size_t len = p[i];
    if (len > 63 || i + 1 + len > p.size()) return false;
    if (!name.empty()) name += '.';
    for (size_t k = 0; k < len; ++k) name += static_cast<char>(std::tolower(p[i + 1 + k]));
    i += 1 + len;
  }
  if (i + 5 > p.size()) return false;
  type = static_cast<uint16_t>(p[i + 1] << 8 | p[i + 2]);
  end = i + 5;
  return true;
}

// A reply to `query`: rcode, and for NOERROR one record of the asked type (MX, TXT or A).
inline std::vector<uint8_t> Reply(const std::vector<uint8_t>& query, int rcode, const std::string& txt) {
  std::string name;
  uint16_t type = 0;
  size_t end = 0;
  if (!ParseQuestion(query, name, type, end)) return {};
  std::vector<uint8_t> r(query.begin(), query.begin() + static_cast<long>(end));
  r[2] = static_cast<uint8_t>(0x80 | (query[2] & 0x01));  // QR, RD copied
  r[3] = static_cast<uint8_t>(0x80 | (rcode & 0x0f));     // RA, rcode
  r[6] = r[7] = r[8] = r[9] = r[10] = r[11] = 0;
  std::vector<uint8_t> rdata;
  if (rcode == 0) {
    if (type == 15) {  // MX 10 mx.<name>
      rdata = {0, 10};
      auto n = EncodeName("mx." + name);
      rdata.insert(rdata.end(), n.begin(), n.end());
    } else if (type == 16) {
      rdata.push_back(static_cast<uint8_t>(txt.size()));
      rdata.insert(rdata.end(), txt.begin(), txt.end());
    } else if (type == 1) {
      rdata = {192, 0, 2, 53};
    }
  }
  if (!rdata.empty()) {
    r[7] = 1;
    r.insert(r.end(), {0xc0, 0x0c, static_cast<uint8_t>(type >> 8), static_cast<uint8_t>(type), 0, 1, 0, 0, 0, 0,
                       static_cast<uint8_t>(rdata.size() >> 8), static_cast<uint8_t>(rdata.size())});
    r.insert(r.end(), rdata.begin(), rdata.end());
  }
  return r;
}

// Sends one query over UDP to 127.0.0.1:port; the reply's rcode, or -1 without a reply in time.
inline int Ask(int port, const std::string& name, uint16_t type, std::chrono::milliseconds wait) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  auto q = Query(0x4242, name, type);
  ::sendto(fd, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  pollfd p{fd, POLLIN, 0};
  int rcode = -1;
  if (::poll(&p, 1, static_cast<int>(wait.count())) == 1) {
    uint8_t buf[1500];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n >= 12) rcode = buf[3] & 0x0f;
  }
  ::close(fd);
  return rcode;
}

}  // namespace dns_wire

// A UDP "DNS server" on 127.0.0.1 that answers every query the same way.
class DnsStub {
 public:
  enum class Mode {
    kServFail,  // SERVFAIL at once
    kLate,      // NOERROR with one record, after `delay`
    kSilent,    // never answers
  };

  explicit DnsStub(Mode mode, std::chrono::milliseconds delay = std::chrono::milliseconds(0),
                   std::string txt = "v=spf1 -all")
      : mode_(mode), delay_(delay), txt_(std::move(txt)) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    if (fd_ < 0) throw std::runtime_error("DnsStub: no socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ::close(fd_);
      throw std::runtime_error("DnsStub: cannot bind a loopback UDP port");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~DnsStub() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  DnsStub(const DnsStub&) = delete;
  DnsStub& operator=(const DnsStub&) = delete;

  int port() const { return port_; }
  int queries() const { return queries_; }

 private:
  struct Due {
    std::chrono::steady_clock::time_point at;
    std::vector<uint8_t> reply;
    sockaddr_in to;
  };

  void Loop() {
    std::vector<Due> due;
    while (!stop_) {
      auto now = std::chrono::steady_clock::now();
      for (auto it = due.begin(); it != due.end();) {
        if (it->at <= now) {
          ::sendto(fd_, it->reply.data(), it->reply.size(), 0, reinterpret_cast<sockaddr*>(&it->to), sizeof it->to);
          it = due.erase(it);
        } else {
          ++it;
        }
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) != 1) continue;
      uint8_t buf[1500];
      sockaddr_in from{};
      socklen_t len = sizeof from;
      ssize_t n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 12) continue;
      ++queries_;
      if (mode_ == Mode::kSilent) continue;
      std::vector<uint8_t> query(buf, buf + n);
      auto reply = dns_wire::Reply(query, mode_ == Mode::kServFail ? 2 : 0, txt_);
      if (reply.empty()) continue;
      due.push_back({std::chrono::steady_clock::now() + (mode_ == Mode::kLate ? delay_ : std::chrono::milliseconds(0)),
                     std::move(reply), from});
    }
  }

  Mode mode_;
  std::chrono::milliseconds delay_;
  std::string txt_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0};
  std::thread thread_;
};

// dnsmasq on 127.0.0.1:<free port>. `records` are dnsmasq options of the test's making
// (--mx-host=..., --txt-record=..., --host-record=..., --local=/test/, --server=/zone/127.0.0.1#PORT).
class DnsmasqServer {
 public:
  explicit DnsmasqServer(std::vector<std::string> records) : records_(std::move(records)) {
    binary_ = Find();
    if (binary_.empty()) throw std::runtime_error("dnsmasq is not installed: run deploy/install-deps.sh");
    std::string tmpl = (std::filesystem::temp_directory_path() / "mailguide-dnsmasq-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("cannot make a scratch directory for dnsmasq");
    dir_ = tmpl;
    std::string error;
    for (int attempt = 0; attempt < 5; ++attempt) {
      if (Launch(error)) return;
    }
    std::filesystem::remove_all(dir_);
    throw std::runtime_error("dnsmasq did not start: " + error);
  }
  ~DnsmasqServer() {
    Stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  DnsmasqServer(const DnsmasqServer&) = delete;
  DnsmasqServer& operator=(const DnsmasqServer&) = delete;

  int port() const { return port_; }
  // For MAILGUIDE_DNS_SERVER.
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string log() const {
    std::ifstream in(dir_ + "/dnsmasq.log");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  // Closing the watchdog pipe makes the shell kill dnsmasq and exit; SIGKILL after 2 s.
  void Stop() {
    if (pid_ <= 0) return;
    ::close(watchdog_);
    watchdog_ = -1;
    for (int i = 0; i < 200; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  static std::string Find() {
    std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
    path += ":/usr/sbin:/usr/bin:/sbin";
    std::stringstream dirs(path);
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
      if (!dir.empty() && ::access((dir + "/dnsmasq").c_str(), X_OK) == 0) return dir + "/dnsmasq";
    }
    return "";
  }

  static int FreeUdpPort() {
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
  }

  bool Launch(std::string& error) {
    port_ = FreeUdpPort();
    std::vector<std::string> args = {binary_,
                                     "--port=" + std::to_string(port_),
                                     "--listen-address=127.0.0.1",
                                     "--bind-interfaces",
                                     "--no-resolv",
                                     "--no-hosts",
                                     "--no-poll",
                                     "--keep-in-foreground",
                                     "--conf-file=/dev/null",
                                     "--pid-file=",
                                     "--cache-size=0",
                                     "--log-queries",
                                     "--log-facility=-",
                                     "--host-record=dnsmasq-ready.invalid,127.0.0.1"};
    if (::geteuid() == 0) {
      args.push_back("--user=nobody");
      args.push_back("--group=nogroup");
    }
    args.insert(args.end(), records_.begin(), records_.end());
    // dnsmasq runs under a watchdog shell that kills it when the pipe from this process closes:
    // at Stop(), and also when the test binary crashes or is killed (dnsmasq drops to `nobody`,
    // which would clear a parent-death signal).
    std::vector<std::string> shell = {"/bin/sh", "-c", "exec 3<&0; \"$0\" \"$@\" </dev/null 3<&- & pid=$!; (read -r _ <&3; kill $pid 2>/dev/null) & wait $pid"};
    shell.insert(shell.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : shell) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string log = dir_ + "/dnsmasq.log";
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      error = "pipe failed";
      return false;
    }
    pid_t pid = ::fork();
    if (pid < 0) {
      ::close(fds[0]);
      ::close(fds[1]);
      error = "fork failed";
      return false;
    }
    if (pid == 0) {  // only async-signal-safe calls from here on
      ::dup2(fds[0], 0);
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fds[0]);
    watchdog_ = fds[1];
    pid_ = pid;
    // Ready when it answers; give up when it exits or after 10 s.
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < until) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        error = this->log();
        for (char& c : error) c = c == '\n' ? ' ' : c;
        return false;
      }
      if (dns_wire::Ask(port_, "dnsmasq-ready.invalid", 1, std::chrono::milliseconds(100)) == 0) return true;
    }
    error = "no answer on port " + std::to_string(port_) + " within 10 s";
    Stop();
    return false;
  }

  std::vector<std::string> records_;
  std::string binary_;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;       // the watchdog shell
  int watchdog_ = -1;    // its stdin's write end
};

}  // namespace bot::testing
