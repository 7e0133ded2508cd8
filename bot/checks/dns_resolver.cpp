#include "bot/checks/dns_resolver.h"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <mutex>

#include "bot/checks/config.h"

namespace bot::checks {

namespace {

constexpr int kClassIn = 1;
constexpr int kTypeA = 1;
constexpr int kTypeMx = 15;
constexpr int kTypeTxt = 16;
constexpr int kTypeAaaa = 28;

int WireType(DnsType t) {
  switch (t) {
    case DnsType::kA: return kTypeA;
    case DnsType::kAaaa: return kTypeAaaa;
    case DnsType::kMx: return kTypeMx;
    case DnsType::kTxt: return kTypeTxt;
  }
  return kTypeA;
}

std::string Normalize(const char* name) {
  std::string s = name ? name : "";
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

bool InitLibrary(std::string& error) {
  static std::once_flag once;
  static int rc = ARES_SUCCESS;
  std::call_once(once, [] { rc = ares_library_init(ARES_LIB_INIT_ALL); });
  if (rc != ARES_SUCCESS) error = std::string("c-ares could not start: ") + ares_strerror(rc);
  return rc == ARES_SUCCESS;
}

DnsStatus StatusFromAres(int rc) {
  switch (rc) {
    case ARES_SUCCESS: return DnsStatus::kOk;
    case ARES_ENODATA: return DnsStatus::kNoData;
    case ARES_ENOTFOUND: return DnsStatus::kNxDomain;
    case ARES_ESERVFAIL: return DnsStatus::kServFail;
    case ARES_EREFUSED: return DnsStatus::kRefused;
    case ARES_ETIMEOUT:
    case ARES_ECANCELLED:
    case ARES_EDESTRUCTION: return DnsStatus::kTimeout;
    case ARES_ECONNREFUSED: return DnsStatus::kUnreachable;
    default: return DnsStatus::kError;
  }
}

void ParseInto(DnsAnswer& a, const unsigned char* abuf, int alen) {
  int rc = ARES_SUCCESS;
  switch (a.query.type) {
    case DnsType::kMx: {
      ares_mx_reply* mx = nullptr;
      rc = ares_parse_mx_reply(abuf, alen, &mx);
      for (ares_mx_reply* m = mx; m; m = m->next) a.mx.push_back({m->priority, Normalize(m->host)});
      if (mx) ares_free_data(mx);
      std::sort(a.mx.begin(), a.mx.end(), [](const MxRecord& x, const MxRecord& y) {
        return x.preference != y.preference ? x.preference < y.preference : x.host < y.host;
      });
      break;
    }
    case DnsType::kTxt: {
      ares_txt_ext* txt = nullptr;
      rc = ares_parse_txt_reply_ext(abuf, alen, &txt);
      for (ares_txt_ext* t = txt; t; t = t->next) {
        std::string chunk(reinterpret_cast<const char*>(t->txt), t->length);
        if (t->record_start || a.txt.empty()) {
          a.txt.push_back(chunk);
        } else {
          a.txt.back() += chunk;
        }
      }
      if (txt) ares_free_data(txt);
      break;
    }
    case DnsType::kA: {
      ares_addrttl ttls[64];
      int n = 64;
      rc = ares_parse_a_reply(abuf, alen, nullptr, ttls, &n);
      char buf[INET6_ADDRSTRLEN];
      for (int i = 0; rc == ARES_SUCCESS && i < n; ++i) {
        if (inet_ntop(AF_INET, &ttls[i].ipaddr, buf, sizeof buf)) a.addresses.push_back(buf);
      }
      break;
    }
    case DnsType::kAaaa: {
      ares_addr6ttl ttls[64];
      int n = 64;
      rc = ares_parse_aaaa_reply(abuf, alen, nullptr, ttls, &n);
      char buf[INET6_ADDRSTRLEN];
      for (int i = 0; rc == ARES_SUCCESS && i < n; ++i) {
        if (inet_ntop(AF_INET6, &ttls[i].ip6addr, buf, sizeof buf)) a.addresses.push_back(buf);
      }
      break;
    }
  }
  if (rc != ARES_SUCCESS) {
    a.status = StatusFromAres(rc);
    if (a.status == DnsStatus::kError) a.error = ares_strerror(rc);
    return;
  }
  bool empty = a.mx.empty() && a.txt.empty() && a.addresses.empty();
  a.status = empty ? DnsStatus::kNoData : DnsStatus::kOk;
}

struct Slot {
  DnsAnswer* answer;
  int* pending;
};

void OnAnswer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
  auto* slot = static_cast<Slot*>(arg);
  DnsAnswer& a = *slot->answer;
  if (status == ARES_SUCCESS && abuf) {
    ParseInto(a, abuf, alen);
  } else {
    a.status = StatusFromAres(status);
    if (a.status == DnsStatus::kError || a.status == DnsStatus::kUnreachable) a.error = ares_strerror(status);
  }
  --*slot->pending;
}

}  // namespace

const char* DnsTypeName(DnsType type) {
  switch (type) {
    case DnsType::kA: return "A";
    case DnsType::kAaaa: return "AAAA";
    case DnsType::kMx: return "MX";
    case DnsType::kTxt: return "TXT";
  }
  return "?";
}

const char* DnsStatusName(DnsStatus status) {
  switch (status) {
    case DnsStatus::kOk: return "NOERROR";
    case DnsStatus::kNoData: return "NODATA";
    case DnsStatus::kNxDomain: return "NXDOMAIN";
    case DnsStatus::kServFail: return "SERVFAIL";
    case DnsStatus::kRefused: return "REFUSED";
    case DnsStatus::kTimeout: return "TIMEOUT";
    case DnsStatus::kUnreachable: return "UNREACHABLE";
    case DnsStatus::kError: return "ERROR";
  }
  return "?";
}

bool IsConclusive(DnsStatus status) {
  return status == DnsStatus::kOk || status == DnsStatus::kNoData || status == DnsStatus::kNxDomain;
}

std::string DnsAnswer::Describe() const {
  std::string s = query.name + " " + DnsTypeName(query.type) + ": " + DnsStatusName(status);
  switch (status) {
    case DnsStatus::kOk: break;
    case DnsStatus::kNoData: s += " (the name exists but has no " + std::string(DnsTypeName(query.type)) + " record)"; break;
    case DnsStatus::kNxDomain: s += " (the name does not exist)"; break;
    case DnsStatus::kServFail: s += " (the resolver failed to get an answer)"; break;
    case DnsStatus::kRefused: s += " (the resolver refused the query)"; break;
    case DnsStatus::kTimeout: s += " (no answer in time)"; break;
    case DnsStatus::kUnreachable: s += " (the resolver could not be reached: " + error + ")"; break;
    case DnsStatus::kError: s += " (" + error + ")"; break;
  }
  return s;
}

Result<std::shared_ptr<DnsResolver>> DnsResolver::Create(const std::string& server) {
  std::string error;
  if (!InitLibrary(error)) return Status::Internal(error);
  std::string csv;
  if (!server.empty()) {
    auto hp = ParseDnsServer(server);
    if (!hp.ok()) return hp.status();
    csv = hp->host.find(':') != std::string::npos ? "[" + hp->host + "]:" + std::to_string(hp->port)
                                                   : hp->host + ":" + std::to_string(hp->port);
  }
  // Try a channel once now, so a broken configuration is reported at start-up.
  ares_channel channel = nullptr;
  int rc = ares_init(&channel);
  if (rc != ARES_SUCCESS) return Status::Unavailable(std::string("DNS resolver: ") + ares_strerror(rc));
  if (!csv.empty()) rc = ares_set_servers_ports_csv(channel, csv.c_str());
  ares_destroy(channel);
  if (rc != ARES_SUCCESS) return Status::InvalidArgument("DNS server '" + server + "': " + ares_strerror(rc));
  return std::shared_ptr<DnsResolver>(new DnsResolver(csv));
}

std::string DnsResolver::Describe() const { return server_csv_.empty() ? "the system resolver" : server_csv_; }

DnsAnswer DnsResolver::Resolve(const DnsQuery& query, std::chrono::steady_clock::time_point deadline) const {
  return Resolve(std::vector<DnsQuery>{query}, deadline).front();
}

std::vector<DnsAnswer> DnsResolver::Resolve(const std::vector<DnsQuery>& queries,
                                            std::chrono::steady_clock::time_point deadline) const {
  using Clock = std::chrono::steady_clock;
  std::vector<DnsAnswer> answers(queries.size());
  for (size_t i = 0; i < queries.size(); ++i) {
    answers[i].query = queries[i];
    answers[i].status = DnsStatus::kTimeout;
  }
  if (queries.empty()) return answers;
  auto remaining_ms = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  };
  if (remaining_ms() <= 0) return answers;

  // Two tries per query (c-ares doubles the timeout on the second), both inside the deadline.
  ares_options opts{};
  int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ;
  opts.timeout = static_cast<int>(std::clamp<long long>(remaining_ms() / 3, 100, 5000));
  opts.tries = 2;
  // NOCHECKRESP: a SERVFAIL or REFUSED answer is the answer (reported as such), not a reason
  // for c-ares to retry until its error turns into something vaguer.
  opts.flags = ARES_FLAG_EDNS | ARES_FLAG_NOSEARCH | ARES_FLAG_NOCHECKRESP;
  opts.ednspsz = 1232;
  ares_channel channel = nullptr;
  int rc = ares_init_options(&channel, &opts, mask);
  if (rc == ARES_SUCCESS && !server_csv_.empty()) rc = ares_set_servers_ports_csv(channel, server_csv_.c_str());
  if (rc != ARES_SUCCESS) {
    for (auto& a : answers) {
      a.status = DnsStatus::kError;
      a.error = std::string("c-ares: ") + ares_strerror(rc);
    }
    if (channel) ares_destroy(channel);
    return answers;
  }

  int pending = static_cast<int>(queries.size());
  std::vector<Slot> slots(queries.size());
  for (size_t i = 0; i < queries.size(); ++i) {
    slots[i] = {&answers[i], &pending};
    std::string name = queries[i].name;
    while (!name.empty() && name.back() == '.') name.pop_back();
    ares_query(channel, name.c_str(), kClassIn, WireType(queries[i].type), OnAnswer, &slots[i]);
  }

  while (pending > 0) {
    long long left = remaining_ms();
    if (left <= 0) break;
    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    int bits = ares_getsock(channel, socks, ARES_GETSOCK_MAXNUM);
    std::vector<pollfd> fds;
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
      short events = 0;
      if (ARES_GETSOCK_READABLE(bits, i)) events |= POLLIN;
      if (ARES_GETSOCK_WRITABLE(bits, i)) events |= POLLOUT;
      if (events) fds.push_back({socks[i], events, 0});
    }
    timeval max_tv{static_cast<time_t>(left / 1000), static_cast<suseconds_t>((left % 1000) * 1000)};
    timeval tv{};
    timeval* t = ares_timeout(channel, &max_tv, &tv);
    int wait_ms = static_cast<int>(t->tv_sec * 1000 + (t->tv_usec + 999) / 1000);
    wait_ms = std::max(1, std::min<int>(wait_ms, static_cast<int>(left)));
    int n = ::poll(fds.data(), fds.size(), wait_ms);
    if (n < 0 && errno != EINTR) break;
    bool any = false;
    for (const auto& p : fds) {
      if (!p.revents) continue;
      any = true;
      ares_socket_t r = (p.revents & (POLLIN | POLLERR | POLLHUP)) ? p.fd : ARES_SOCKET_BAD;
      ares_socket_t w = (p.revents & POLLOUT) ? p.fd : ARES_SOCKET_BAD;
      ares_process_fd(channel, r, w);
    }
    if (!any) ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // timeouts, retries
  }
  // Whatever is still pending ran out of time: its callback reports ARES_ECANCELLED.
  ares_cancel(channel);
  ares_destroy(channel);
  return answers;
}

}  // namespace bot::checks
