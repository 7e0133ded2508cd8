// Finding codes in pasted text: the fragments agents copy from bounces (tests/data/smtp/fragments.json)
// and the tricky cases of reference/smtp-codes.md §3.
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "bot/smtp/bounce_parser.h"
#include "bot/smtp/smtp.h"
#include "support/paths.h"

namespace {

using bot::smtp::Explanation;
using bot::smtp::Knowledge;
using bot::smtp::ParseBounce;
using bot::smtp::ParsedBounce;

const Knowledge& Kb() {
  static const Knowledge k = [] {
    auto r = Knowledge::Load(bot::testing::FlowsDir());
    if (!r.ok()) FAIL("knowledge base does not load: " << r.status().ToString());
    return std::move(r).value();
  }();
  return k;
}

std::string Codes(const ParsedBounce& pb) {
  std::string out;
  for (const auto& r : pb.replies) {
    if (!out.empty()) out += ", ";
    out += (r.basic.empty() ? "-" : r.basic) + " " + (r.enhanced.empty() ? "-" : r.enhanced);
  }
  return out;
}

std::string Primary(const ParsedBounce& pb) {
  if (pb.primary < 0) return "none";
  const auto& r = pb.replies[static_cast<size_t>(pb.primary)];
  return (r.basic.empty() ? "-" : r.basic) + " " + (r.enhanced.empty() ? "-" : r.enhanced);
}

}  // namespace

TEST_CASE("pasted fragments in each provider's style give code, category and section", "[smtp]") {
  std::ifstream in(bot::testing::SourceDir() + "/tests/data/smtp/fragments.json");
  REQUIRE(in);
  nlohmann::json cases = nlohmann::json::parse(in);
  REQUIRE(cases.size() >= 40);
  for (const auto& c : cases) {
    std::string name = c.at("name");
    std::string text = c.at("text");
    Explanation e = Kb().ExplainText(text);
    INFO(name << "\n" << text << "\n=> " << e.summary << " [" << e.matched_text << "]");
    CHECK(e.basic == c.at("basic").get<std::string>());
    CHECK(e.enhanced == c.at("enhanced").get<std::string>());
    CHECK(e.category == c.at("category").get<std::string>());
    CHECK(e.section == c.at("section").get<std::string>());
    CHECK_FALSE(e.explanation.empty());
  }
}

TEST_CASE("a multi-line reply is one reply with one code", "[smtp]") {
  auto pb = ParseBounce(
      "550-5.7.26 Unauthenticated email from example.com is not accepted due to\n"
      "550-5.7.26 domain's DMARC policy.\n"
      "550 5.7.26 https://support.google.com/mail/?p=DmarcRejection - gsmtp\n");
  CHECK(Codes(pb) == "550 5.7.26");
  CHECK(pb.replies[0].line == 1);
  CHECK(Primary(pb) == "550 5.7.26");
}

TEST_CASE("a flattened reply counts once and the words read as one sentence", "[smtp]") {
  std::string postfix =
      "<a@example.com>: host gmail-smtp-in.l.google.com[192.0.2.1] said: 550-5.7.1\n"
      "    [192.0.2.222 13] Messages with multiple 550 5.7.1 addresses in From: header are\n"
      "    not accepted. - gsmtp (in reply to end of DATA command)\n";
  auto pb = ParseBounce(postfix);
  CHECK(Codes(pb) == "550 5.7.1");
  CHECK(Kb().ExplainText(postfix).category == "syntax");
}

TEST_CASE("a pair split by a line wrap is still one reply", "[smtp]") {
  auto pb = ParseBounce("host mta5.am0.yahoodns.net[192.0.2.5] said: 421\n    4.7.0 [TSS04] Messages deferred\n");
  CHECK(Codes(pb) == "421 4.7.0");
}

TEST_CASE("whole tokens only: 5.7.1 is not 5.7.10, 5.1.1 is not 5.1.10", "[smtp]") {
  CHECK(Primary(ParseBounce("550 5.7.10 Encryption needed")) == "550 5.7.10");
  CHECK(Primary(ParseBounce("550 5.7.1 Delivery not authorized")) == "550 5.7.1");
  CHECK(Primary(ParseBounce("550 5.1.10 RESOLVER.ADR.RecipientNotFound")) == "550 5.1.10");
  CHECK(Primary(ParseBounce("Status: 5.7.133")) == "- 5.7.133");
  CHECK(Kb().ExplainCodes({"5.7.10"})->category == "auth");
  CHECK(Kb().ExplainCodes({"5.7.1"})->category == "policy-blocklist");
}

TEST_CASE("IPs, dates, times, versions, ports, sizes, phones and ids are not codes", "[smtp]") {
  const char* noise[] = {
      "Received: from mx.example.net (192.0.2.10) by 198.51.100.20 with Exim 4.98",
      "Sent on 2024-11-05 at 14:03:27, retry after 00:10:00",
      "Date: 05.11.2024 12:00",
      "Sendmail 8.18.1/8.18.1; Microsoft SMTP Server 15.20.7362.27",
      "connect to mx.example.net[192.0.2.10]:25: Connection timed out",
      "port=49152 SIZE=10485760 (26214400 bytes)",
      "Call us on 555-0100 ext. 450 or quote ticket 550-2231 / order #421337",
      "Yahoo trailer - 4.16.55.1; (554.30)",
      "DNS Error: 27547840 DNS type 'mx' lookup of example.org",
      "AS(201806281) 4.2.2.1 v5.1.1a",
      "Message-ID: <550.5.1.1@example.com>",
      "500 messages were queued in 250 seconds",
  };
  for (const char* text : noise) {
    INFO(text);
    auto pb = ParseBounce(text);
    CHECK(Codes(pb).empty());
  }
}

TEST_CASE("Exchange's mismatched 550 4.4.7 is permanent and its earlier attempts are listed", "[smtp]") {
  std::string ndr =
      "Diagnostic information for administrators:\n"
      "Generating server: mail.example.com\n"
      "lee@example.org\n"
      "11/5/2024 8:05:56 PM - Remote Server at mx.example.org (192.0.2.3) returned '550 4.4.7 QUEUE.Expired; message expired'\n"
      "11/5/2024 7:58:27 PM - Remote Server at mx.example.org (192.0.2.3) returned '450 4.4.316 Connection refused [Message=Socket error code 10061]'\n";
  Explanation e = Kb().ExplainText(ndr);
  CHECK(e.basic == "550");
  CHECK(e.enhanced == "4.4.7");
  CHECK(e.permanent);
  CHECK(e.category == "server-unavailable");
  REQUIRE(e.codes.size() == 2);
  CHECK(e.codes[1].enhanced == "4.4.316");
}

TEST_CASE("the final permanent failure wins over earlier deferrals and follow-ups", "[smtp]") {
  std::string transcript =
      "... while talking to mx.example.jp.:\n"
      ">>> MAIL From:<a@example.com>\n"
      "<<< 250 2.1.0 Sender ok\n"
      ">>> RCPT To:<kim@example.jp>\n"
      "<<< 451 4.7.1 Greylisted, try later\n"
      ">>> RCPT To:<kim@example.jp>\n"
      "<<< 550 5.1.1 <kim@example.jp>... User unknown\n"
      ">>> DATA\n"
      "<<< 503 5.0.0 Need RCPT (recipient)\n"
      "554 5.0.0 Service unavailable\n";
  auto pb = ParseBounce(transcript);
  CHECK(Primary(pb) == "550 5.1.1");
  CHECK(Codes(pb) == "250 2.1.0, 451 4.7.1, 550 5.1.1, 503 5.0.0, 554 5.0.0");
}

TEST_CASE("in a delay warning the transient reply is the primary", "[smtp]") {
  auto pb = ParseBounce(
      "Subject: Delivery Status Notification (Delay)\nFrom: Mail Delivery Subsystem <mailer-daemon@example.com>\n\n"
      "Delivery to kim@example.jp has been delayed.\n\n"
      "The response was:\n421 4.4.2 mx.example.jp: timeout exceeded\n");
  CHECK(pb.kind == ParsedBounce::Kind::kDelay);
  CHECK(Primary(pb) == "421 4.4.2");
  CHECK_FALSE(Kb().ExplainText("Action: delayed\nStatus: 4.4.1\nDiagnostic-Code: smtp; 450 4.2.2 Mailbox full").permanent);
}

TEST_CASE("Status: fills in a missing enhanced code; Diagnostic-Code wins over a generic Status", "[smtp]") {
  CHECK(Primary(ParseBounce("Action: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 User unknown\n")) == "550 5.1.1");
  CHECK(Primary(ParseBounce("Action: failed\nStatus: 5.0.0\nDiagnostic-Code: smtp; 550 5.7.606 Access denied\n")) ==
        "550 5.7.606");
  CHECK(Primary(ParseBounce("Status: 5.1.10 (host/domain does not accept mail)\n")) == "- 5.1.10");
}

TEST_CASE("the quoted original message is not read", "[smtp]") {
  std::string bounce =
      "From: MAILER-DAEMON@example.com\nSubject: Undelivered Mail Returned to Sender\n"
      "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\n\n"
      "--b1\nContent-Type: text/plain\n\n<kim@example.jp>: host mx.example.jp[192.0.2.2] said: 550 5.1.1 User unknown\n\n"
      "--b1\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; example.com\n\n"
      "Final-Recipient: rfc822; kim@example.jp\nAction: failed\nStatus: 5.1.1\n"
      "Diagnostic-Code: smtp; 550 5.1.1 User unknown\n\n"
      "--b1\nContent-Type: message/rfc822\n\nFrom: a@example.com\nSubject: quote\n\n"
      "Earlier I got 552 5.2.2 Mailbox full and\n421 4.7.0 Try later\n--b1--\n";
  auto pb = ParseBounce(bounce);
  CHECK(Codes(pb) == "550 5.1.1");
  std::string plain =
      "This message was created automatically by mail delivery software.\n\n  kim@example.jp\n"
      "    SMTP error from remote mail server after RCPT TO:<kim@example.jp>:\n"
      "    host mx.example.jp [192.0.2.2]: 550 5.1.1 No such user\n\n"
      "------ This is a copy of the message, including all the headers. ------\n"
      "Subject: Re: your error\n\n554 5.7.1 quoted text from an earlier bounce\n";
  CHECK(Codes(ParseBounce(plain)) == "550 5.1.1");
}

TEST_CASE("a quoted-printable Microsoft NDR is decoded before parsing", "[smtp]") {
  std::string ndr =
      "From: postmaster@example.onmicrosoft.com\nSubject: Undeliverable: hello\nMIME-Version: 1.0\n"
      "Content-Type: text/plain; charset=\"us-ascii\"\nContent-Transfer-Encoding: quoted-printable\n\n"
      "Diagnostic information for administrators:\n\nGenerating server: AM0PR02MB0001.eurprd02.prod.outlook.com\n\n"
      "kim@example.jp\nRemote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recip=\n"
      "ient not found by SMTP address lookup'\n";
  Explanation e = Kb().ExplainText(ndr);
  CHECK(e.basic == "550");
  CHECK(e.enhanced == "5.1.10");
  CHECK(e.category == "recipient-unknown");
  CHECK(e.reply_text.find("Recipient not found") != std::string::npos);
}

TEST_CASE("a base64 text part is decoded", "[smtp]") {
  std::string text = "<kim@example.jp>: host mx.example.jp said: 552 5.2.2 Mailbox full\n";
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string b64;
  for (size_t i = 0; i < text.size(); i += 3) {
    unsigned n = static_cast<unsigned char>(text[i]) << 16;
    if (i + 1 < text.size()) n |= static_cast<unsigned char>(text[i + 1]) << 8;
    if (i + 2 < text.size()) n |= static_cast<unsigned char>(text[i + 2]);
    b64 += kAlphabet[(n >> 18) & 63];
    b64 += kAlphabet[(n >> 12) & 63];
    b64 += i + 1 < text.size() ? kAlphabet[(n >> 6) & 63] : '=';
    b64 += i + 2 < text.size() ? kAlphabet[n & 63] : '=';
  }
  std::string mail = "From: MAILER-DAEMON@example.com\nSubject: failure notice\nMIME-Version: 1.0\n"
                     "Content-Type: multipart/mixed; boundary=zz\n\n--zz\nContent-Type: text/plain\n"
                     "Content-Transfer-Encoding: base64\n\n" + b64 + "\n--zz--\n";
  CHECK(Primary(ParseBounce(mail)) == "552 5.2.2");
  CHECK(Kb().ExplainText(mail).category == "mailbox-full");
}

TEST_CASE("HTML alternatives are counted once", "[smtp]") {
  std::string mail =
      "From: MAILER-DAEMON@example.com\nSubject: Undeliverable\nMIME-Version: 1.0\n"
      "Content-Type: multipart/alternative; boundary=\"alt\"\n\n"
      "--alt\nContent-Type: text/plain\n\nRemote Server returned '550 5.1.1 User unknown'\n"
      "--alt\nContent-Type: text/html\n\n<p>Remote Server returned '550 5.1.1 User unknown'</p><p>421 4.7.0 x</p>\n--alt--\n";
  CHECK(Codes(ParseBounce(mail)) == "550 5.1.1");
}

TEST_CASE("non-failures are category none", "[smtp]") {
  CHECK(Kb().ExplainText("Action: delivered\nStatus: 2.0.0\nDiagnostic-Code: smtp; 250 2.0.0 OK\n").category == "none");
  auto arf = Kb().ExplainText(
      "From: staff@example.net\nSubject: FW: complaint\nMIME-Version: 1.0\n"
      "Content-Type: multipart/report; report-type=feedback-report; boundary=\"f\"\n\n"
      "--f\nContent-Type: text/plain\n\nThis is an abuse report\n--f\nContent-Type: message/feedback-report\n\n"
      "Feedback-Type: abuse\nUser-Agent: Example/1.0\nVersion: 1\n--f--\n");
  CHECK(arf.category == "none");
  CHECK_FALSE(arf.failure);
  auto ooo = Kb().ExplainText("From: kim@example.jp\nSubject: Out of Office: hello\nAuto-Submitted: auto-replied\n\nBack on Monday.\n");
  CHECK(ooo.category == "none");
  CHECK(ooo.section == "none");
}

TEST_CASE("no code at all: classified from the words, and says so", "[smtp]") {
  Explanation e = Kb().ExplainText("kim@example.jp\n    mailbox is full: retry timeout exceeded\n");
  CHECK(e.basic.empty());
  CHECK(e.enhanced.empty());
  CHECK(e.category == "mailbox-full");
  CHECK(e.explanation.find("No SMTP code was given") != std::string::npos);
  CHECK(Kb().ExplainText("hello, how are you?").category == "none");
}

TEST_CASE("StartsWithCode and ContainsCode", "[smtp]") {
  using bot::smtp::ContainsCode;
  using bot::smtp::StartsWithCode;
  CHECK(StartsWithCode("550"));
  CHECK(StartsWithCode("5.1.1"));
  CHECK(StartsWithCode("550 5.7.26 blah"));
  CHECK(StartsWithCode("  550-5.7.26 blah"));
  CHECK_FALSE(StartsWithCode("customer can't send"));
  CHECK_FALSE(StartsWithCode("2024-11-05 the customer called"));
  CHECK_FALSE(StartsWithCode("500 messages stuck in the queue"));
  CHECK_FALSE(StartsWithCode("999"));
  CHECK_FALSE(StartsWithCode("got 550 from gmail"));
  CHECK(ContainsCode("the bounce said: 550 5.1.1 user unknown"));
  CHECK(ContainsCode("Status: 5.2.2"));
  CHECK_FALSE(ContainsCode("mail from 192.0.2.10 at 14:03:27"));
}

TEST_CASE("any bytes: no crash, no exception, bounded work", "[smtp]") {
  std::mt19937 rng(12345);
  const std::string pieces[] = {"550", "5.7.26", "-", " ", "\n", "\r\n", "=", "=3D", "--b", "Content-Type: multipart/report; boundary=b\n",
                                "Content-Transfer-Encoding: quoted-printable\n", "Content-Transfer-Encoding: base64\n",
                                "Status: ", "Diagnostic-Code: smtp;", "#", "(#5.1.1)", "<<< ", ">>> ", "\x1b$B", "\x1b(B",
                                "\xff", std::string(1, '\0'), "said: ", "'", "4.", "2.", "\t", "\n\n"};
  for (int round = 0; round < 300; ++round) {
    std::string s;
    int n = static_cast<int>(rng() % 200);
    for (int i = 0; i < n; ++i) {
      if (rng() % 3 == 0) s += static_cast<char>(rng() % 256);
      else s += pieces[rng() % (sizeof pieces / sizeof pieces[0])];
    }
    CHECK_NOTHROW(Kb().ExplainText(s));
  }
  // Big inputs are cut at 1 MB, and deep or endless structures do not blow up.
  std::string big(3 << 20, 'a');
  for (size_t i = 0; i < big.size(); i += 97) big[i] = '\n';
  CHECK_NOTHROW(Kb().ExplainText(big));
  std::string nested;
  for (int i = 0; i < 5000; ++i) nested += "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\n\n--b" + std::to_string(i) + "\n";
  CHECK_NOTHROW(Kb().ExplainText(nested));
  // One long line full of code-like tokens once made the scan quadratic.
  for (std::string unit : {"x 550 ", "5 ", " (#5.1.1)", "said: 550 x "}) {
    std::string line;
    while (line.size() < (1u << 20)) line += unit;
    CHECK_NOTHROW(Kb().ExplainText(line));
    CHECK_NOTHROW(bot::smtp::StartsWithCode(line));
  }
  std::string codes;
  for (int i = 0; i < 20000; ++i) codes += "550-5.7.26 x\n";
  auto e = Kb().ExplainText(codes);
  CHECK(e.enhanced == "5.7.26");
  CHECK(e.codes.size() == 1);
}
