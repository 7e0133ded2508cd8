// The web chat's HTML renderer: every Reply part appears, and every piece of text is escaped.
#include <catch2/catch.hpp>

#include "adapters/web/web_render.h"

using bot::Choice;
using bot::Reply;
using bot::web::EscapeHtml;
using bot::web::RenderReplyHtml;
using Catch::Contains;

TEST_CASE("EscapeHtml replaces the five characters HTML gives meaning", "[web]") {
  CHECK(EscapeHtml("a & b < c > d \" e ' f") == "a &amp; b &lt; c &gt; d &quot; e &#39; f");
  CHECK(EscapeHtml("plain text, ünïcödé") == "plain text, ünïcödé");
  CHECK(EscapeHtml("&amp;") == "&amp;amp;");
  CHECK(EscapeHtml("") == "");
}

TEST_CASE("every part of a reply is rendered, in order", "[web]") {
  Reply r;
  r.title = "The user cannot access webmail";
  r.progress = "Step 2 of 5";
  r.paragraphs = {"First paragraph.", "Second\nline"};
  r.checklist = {"check SPF", "check DKIM"};
  r.facts = {{"Code", "550 5.7.26"}, {"Category", "dmarc-spf-dkim"}};
  r.preformatted = "Mailbox: a@example.com\nDomain: example.com";
  r.choices = {{"Yes", "yes", Choice::Style::kPrimary}, {"No", "no", Choice::Style::kDefault},
               {"Cancel", "cancel", Choice::Style::kDanger}};
  r.footer = "Answer yes or no.";
  r.step_token = "webmail.2.t7";
  const std::string html = RenderReplyHtml(r);

  CHECK_THAT(html, Contains("<h2 tabindex=\"-1\">The user cannot access webmail</h2>"));
  CHECK_THAT(html, Contains("<p class=\"progress\">Step 2 of 5</p>"));
  CHECK_THAT(html, Contains("<p>First paragraph.</p><p>Second<br>line</p>"));
  CHECK_THAT(html, Contains("<ul class=\"checklist\"><li>check SPF</li><li>check DKIM</li></ul>"));
  CHECK_THAT(html, Contains("<dt>Code</dt><dd>550 5.7.26</dd>"));
  CHECK_THAT(html, Contains("<pre>Mailbox: a@example.com\nDomain: example.com</pre>"));
  CHECK_THAT(html, Contains("<button type=\"button\" class=\"copy\">Copy summary</button>"));
  CHECK_THAT(html, Contains("<button type=\"button\" class=\"choice primary\" data-choice=\"yes\" "
                            "data-step-token=\"webmail.2.t7\">Yes</button>"));
  CHECK_THAT(html, Contains("class=\"choice\" data-choice=\"no\""));
  CHECK_THAT(html, Contains("class=\"choice danger\" data-choice=\"cancel\""));
  CHECK_THAT(html, Contains("<p class=\"footer\">Answer yes or no.</p>"));
  CHECK(html.rfind("<article class=\"reply asks summary\">", 0) == 0);
  CHECK(html.size() >= 10);
  CHECK(html.substr(html.size() - 10) == "</article>");
  // Order: title, paragraphs, checklist, facts, summary, choices, footer.
  CHECK(html.find("<h2") < html.find("<p>First"));
  CHECK(html.find("checklist") < html.find("facts"));
  CHECK(html.find("facts") < html.find("<pre>"));
  CHECK(html.find("<pre>") < html.find("class=\"choices\""));
  CHECK(html.find("class=\"choices\"") < html.find("class=\"footer\""));
}

TEST_CASE("an empty reply renders as an empty article, with no empty elements", "[web]") {
  const std::string html = RenderReplyHtml(Reply{});
  CHECK(html == "<article class=\"reply\"></article>");
}

TEST_CASE("text from the engine or the user is escaped in every part, attributes included", "[web]") {
  const std::string evil = "<script>alert('x')</script>&\"";
  const std::string escaped = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;";
  Reply r;
  r.title = evil;
  r.progress = evil;
  r.paragraphs = {evil};
  r.checklist = {evil};
  r.facts = {{evil, evil}};
  r.preformatted = evil;
  r.choices = {{evil, evil, Choice::Style::kDefault}};
  r.footer = evil;
  r.step_token = "\" onclick=\"alert(1)";
  const std::string html = RenderReplyHtml(r);

  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("'") == std::string::npos);
  CHECK(html.find("onclick=\"") == std::string::npos);
  CHECK_THAT(html, Contains("data-step-token=\"&quot; onclick=&quot;alert(1)\""));
  CHECK_THAT(html, Contains("data-choice=\"" + escaped + "\""));
  size_t count = 0;
  for (size_t at = html.find(escaped); at != std::string::npos; at = html.find(escaped, at + 1)) ++count;
  CHECK(count == 10);  // title, progress, paragraph, item, label, value, pre, value + label of the button, footer
}
