#include "bot/checks/prober.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

namespace bot::checks {

namespace {

using Outcome = ProbeResult::Outcome;
constexpr const char* kDnsIds[] = {"mx", "spf", "dmarc", "dkim"};

}  // namespace

CheckProber::CheckProber(std::shared_ptr<const DnsResolver> dns, DnsCheckOptions dns_options,
                         std::shared_ptr<const ProviderChecks> provider, ProviderMap map,
                         std::shared_ptr<InFlight> in_flight)
    : dns_(std::move(dns)),
      dns_options_(std::move(dns_options)),
      provider_(std::move(provider)),
      map_(std::move(map)),
      in_flight_(in_flight ? std::move(in_flight) : std::make_shared<InFlight>()) {}

std::vector<std::string> CheckProber::ProbeIds() const {
  std::vector<std::string> ids(std::begin(kDnsIds), std::end(kDnsIds));
  for (const auto& p : map_.probes) ids.push_back(p.id);
  return ids;
}

std::vector<ProbeResult> CheckProber::Run(const ProbeTarget& target, std::chrono::milliseconds deadline_in) {
  const auto deadline = std::chrono::steady_clock::now() + deadline_in;
  const std::vector<std::string> ids = ProbeIds();

  // Each job fills one or more slots; a job still running at the deadline leaves its slots empty.
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    std::map<std::string, ProbeResult> results;
    int running = 0;
    DnsStatus domain_lookup = DnsStatus::kTimeout;
  };
  auto shared = std::make_shared<Shared>();
  auto launch = [&](auto job) {
    {
      std::lock_guard<std::mutex> lock(shared->mu);
      ++shared->running;
    }
    auto token = std::make_unique<InFlight::Token>(in_flight_);
    std::thread([shared, job = std::move(job), token = std::move(token)] {
      std::vector<ProbeResult> out;
      DnsStatus lookup = DnsStatus::kTimeout;
      bool is_mx = job(out, lookup);
      std::lock_guard<std::mutex> lock(shared->mu);
      for (auto& r : out) shared->results[r.id] = std::move(r);
      if (is_mx) shared->domain_lookup = lookup;
      --shared->running;
      shared->cv.notify_all();
    }).detach();
  };

  const std::string domain = target.domain;
  auto dns = dns_;
  auto opts = dns_options_;
  launch([=](std::vector<ProbeResult>& out, DnsStatus& lookup) {
    out.push_back(CheckMx(*dns, domain, opts, deadline, &lookup));
    return true;
  });
  launch([=](std::vector<ProbeResult>& out, DnsStatus&) {
    out.push_back(CheckSpf(*dns, domain, opts, deadline));
    return false;
  });
  launch([=](std::vector<ProbeResult>& out, DnsStatus&) {
    out.push_back(CheckDmarc(*dns, domain, deadline));
    return false;
  });
  launch([=](std::vector<ProbeResult>& out, DnsStatus&) {
    out.push_back(CheckDkim(*dns, domain, opts, deadline));
    return false;
  });
  if (provider_) {
    auto provider = provider_;
    ProbeTarget t = target;
    launch([=](std::vector<ProbeResult>& out, DnsStatus&) {
      out = provider->Run(t, deadline);
      return false;
    });
  }

  std::map<std::string, ProbeResult> results;
  DnsStatus domain_lookup;
  {
    std::unique_lock<std::mutex> lock(shared->mu);
    // A little grace past the deadline: every job watches the same deadline itself.
    shared->cv.wait_until(lock, deadline + std::chrono::milliseconds(200), [&] { return shared->running == 0; });
    results = shared->results;
    domain_lookup = shared->domain_lookup;
  }

  std::vector<ProbeResult> out;
  for (const auto& id : ids) {
    auto it = results.find(id);
    if (it != results.end()) {
      out.push_back(it->second);
    } else if (!provider_ && std::find(std::begin(kDnsIds), std::end(kDnsIds), id) == std::end(kDnsIds)) {
      out.push_back({id, Outcome::kUnknown, kProviderNotConfigured});
    } else {
      out.push_back({id, Outcome::kUnknown,
                     "No answer within the deadline of " + std::to_string(deadline_in.count()) + " ms."});
    }
  }
  if (domain_lookup == DnsStatus::kNxDomain) {
    for (auto& r : out) {
      if (r.id != "domain-active") continue;
      r.outcome = Outcome::kFail;
      r.detail = domain + " does not exist in public DNS (NXDOMAIN): its registration has lapsed or it was never registered." +
                 (r.detail.empty() ? "" : " " + r.detail);
    }
  }
  return out;
}

Result<MailboxToken> CheckProber::GenerateToken(const std::string& mailbox, const std::string& reason) {
  if (!provider_) return Status::PermissionDenied(kProviderNotConfigured);
  return provider_->GenerateToken(mailbox, reason);
}

Result<std::unique_ptr<CheckProber>> MakeCheckProber(const ChecksConfig& config, std::shared_ptr<HttpClient> http,
                                                     OpenSrsClient::LogSink log) {
  auto dns = DnsResolver::Create(config.dns_server);
  if (!dns.ok()) return Status::InvalidArgument("MAILGUIDE_DNS_SERVER: " + dns.status().message());
  auto map = LoadProviderMap(config.provider_map);
  if (!map.ok()) return map.status();
  DnsCheckOptions options{config.mx_hosts, config.spf_include, config.dkim_selectors};
  auto in_flight = std::make_shared<InFlight>();
  std::shared_ptr<const ProviderChecks> provider;
  if (config.provider_configured()) {
    if (!http) return Status::InvalidArgument("the provider API is configured but no HTTP client was given");
    OpenSrsSettings settings{config.opensrs_url, config.opensrs_user, config.opensrs_password, map->client};
    auto client = std::make_shared<const OpenSrsClient>(std::move(http), std::move(settings), std::move(log));
    provider = std::make_shared<const ProviderChecks>(client, *map, config.opensrs_role, in_flight);
  }
  return std::make_unique<CheckProber>(*dns, std::move(options), std::move(provider), std::move(*map), in_flight);
}

}  // namespace bot::checks
