// The DNS the checks' tests look at: one dnsmasq on loopback (started on first use, stopped
// at exit) serving *.test with records of the tests' own making, plus stub upstreams for the
// zones that fail: servfail.test answers SERVFAIL, slow.test answers after 1.5 s, late.test
// after 0.3 s, silent.test never. Names outside *.test are REFUSED (no upstream).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bot/checks/dns_checks.h"
#include "support/dnsmasq_server.h"

namespace bot::testing {

class DnsWorld {
 public:
  static DnsWorld& Get() {
    static DnsWorld world;
    return world;
  }

  std::string server() const { return dnsmasq_->address(); }
  std::shared_ptr<checks::DnsResolver> resolver() const {
    auto r = checks::DnsResolver::Create(server());
    if (!r.ok()) throw std::runtime_error(r.status().ToString());
    return *r;
  }
  // What the provider looks like in this world.
  static checks::DnsCheckOptions Options() {
    return {{"hostedemail.test"}, "_spf.hostedemail.test", {"sel1", "sel2"}};
  }
  // Environment for `mailguide check` against this world.
  std::vector<std::string> Env() const {
    return {"MAILGUIDE_DNS_SERVER=" + server(), "MAILGUIDE_MX_HOSTS=hostedemail.test",
            "MAILGUIDE_SPF_INCLUDE=_spf.hostedemail.test", "MAILGUIDE_DKIM_SELECTORS=sel1,sel2"};
  }
  const DnsmasqServer& dnsmasq() const { return *dnsmasq_; }

 private:
  DnsWorld()
      : servfail_(DnsStub::Mode::kServFail),
        slow_(DnsStub::Mode::kLate, std::chrono::milliseconds(1500)),
        late_(DnsStub::Mode::kLate, std::chrono::milliseconds(300)),
        silent_(DnsStub::Mode::kSilent) {
    const std::string spf = "v=spf1 include:_spf.hostedemail.test ~all";
    auto stub = [](const char* zone, const DnsStub& s) {
      return std::string("--server=/") + zone + "/127.0.0.1#" + std::to_string(s.port());
    };
    std::vector<std::string> r = {
        "--local=/test/",
        // the provider
        "--txt-record=_spf.hostedemail.test,v=spf1 ip4:192.0.2.0/24 -all",
        "--host-record=mx1.cust.hostedemail.test,192.0.2.10",
        "--host-record=mx2.cust.hostedemail.test,192.0.2.11,2001:db8::11",
        // good.test: everything right
        "--mx-host=good.test,mx1.cust.hostedemail.test,10",
        "--mx-host=good.test,mx2.cust.hostedemail.test,20",
        "--txt-record=good.test," + spf,
        "--txt-record=good.test,google-site-verification=abc",
        "--txt-record=_dmarc.good.test,v=DMARC1; p=quarantine; rua=mailto:dmarc@good.test",
        "--txt-record=sel1._domainkey.good.test,v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC1",
        // nomx.test: exists (it has TXT) but publishes no MX
        "--txt-record=nomx.test," + spf,
        // twospf.test: two SPF records
        "--mx-host=twospf.test,mx1.cust.hostedemail.test,10",
        "--txt-record=twospf.test,v=spf1 include:_spf.hostedemail.test ~all",
        "--txt-record=twospf.test,v=spf1 ip4:198.51.100.7 -all",
        // nodmarc.test: MX and SPF right, no DMARC, no DKIM
        "--mx-host=nodmarc.test,mx1.cust.hostedemail.test,10",
        "--txt-record=nodmarc.test," + spf,
        // elsewhere.test: MX at another provider, SPF without the provider's include
        "--mx-host=elsewhere.test,mx.other-provider.test,10",
        "--host-record=mx.other-provider.test,198.51.100.25",
        "--txt-record=elsewhere.test,v=spf1 ip4:198.51.100.0/24 -all",
        "--txt-record=_dmarc.elsewhere.test,v=DMARC1; rua=mailto:x@elsewhere.test",
        "--txt-record=sel1._domainkey.elsewhere.test,v=DKIM1; p=",
        // deadmx.test: MX at the provider's name that has no address
        "--mx-host=deadmx.test,gone.cust.hostedemail.test,10",
        "--txt-record=deadmx.test," + spf,
        "--txt-record=_dmarc.deadmx.test,v=DMARC1; p=none",
        // toomany.test: 11 DNS lookups through nested includes
        "--txt-record=toomany.test,v=spf1 include:_spf.hostedemail.test include:chain1.test a mx ~all",
        "--txt-record=chain1.test,v=spf1 a mx ptr exists:%{i}.x.test include:chain2.test -all",
        "--txt-record=chain2.test,v=spf1 a mx -all",
        // loop.test: an include loop; badinclude.test: an include with no SPF record
        "--txt-record=loop.test,v=spf1 include:loop2.test -all",
        "--txt-record=loop2.test,v=spf1 include:loop.test -all",
        "--txt-record=badinclude.test,v=spf1 include:_spf.hostedemail.test include:nothing.test -all",
        // twodmarc.test
        "--txt-record=_dmarc.twodmarc.test,v=DMARC1; p=reject",
        "--txt-record=_dmarc.twodmarc.test,v=DMARC1; p=none",
        // zones answered by the stubs
        stub("servfail.test", servfail_),
        stub("slow.test", slow_),
        stub("late.test", late_),
        stub("silent.test", silent_),
    };
    dnsmasq_ = std::make_unique<DnsmasqServer>(r);
  }

  DnsStub servfail_, slow_, late_, silent_;
  std::unique_ptr<DnsmasqServer> dnsmasq_;
};

}  // namespace bot::testing
