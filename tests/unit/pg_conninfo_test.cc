#include "engine/pg_conninfo.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "engine/template.h"

namespace runbook {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using KV = std::pair<std::string, std::string>;

Text Template(std::string raw) {
  Text t;
  t.raw = std::move(raw);
  return t;
}

TEST(ConninfoTest, ParsesQuotedAndEscapedValuesInLibpqsOrder) {
  auto c =
      ParseConninfo(" host = /var/run/postgresql dbname='my db' password='it\\'s' user=a\\ b ");
  ASSERT_TRUE(c.ok()) << c.message();
  EXPECT_THAT(*c, ElementsAre(KV("user", "a b"), KV("password", "it's"), KV("dbname", "my db"),
                              KV("host", "/var/run/postgresql")));
  EXPECT_EQ(FormatConninfo(*c, false),
            "user='a b' password='it\\'s' dbname='my db' host=/var/run/postgresql");
  EXPECT_EQ(FormatConninfo(*c, true),
            "user='a b' password=*** dbname='my db' host=/var/run/postgresql");
  auto again = ParseConninfo(FormatConninfo(*c, false));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *c);
}

TEST(ConninfoTest, UrisAndBareNames) {
  auto uri = ParseConninfo("postgresql://jane@db.internal:6432/app?sslmode=require");
  ASSERT_TRUE(uri.ok()) << uri.message();
  EXPECT_THAT(*uri, ElementsAre(KV("user", "jane"), KV("dbname", "app"), KV("host", "db.internal"),
                                KV("port", "6432"), KV("sslmode", "require")));
  // libpq reads a text without '=' as a database name.
  auto bare = ParseConninfo("jane");
  ASSERT_TRUE(bare.ok());
  EXPECT_THAT(*bare, ElementsAre(KV("dbname", "jane")));
}

TEST(ConninfoTest, LibpqsErrors) {
  EXPECT_THAT(ParseConninfo("host='x").message(), HasSubstr("unterminated quoted string"));
  EXPECT_THAT(ParseConninfo("hots=x").message(), HasSubstr("invalid connection option \"hots\""));
}

struct Scope {
  std::map<std::string, std::string> params;
  std::map<std::string, std::string> secrets{{"pw", "s3cret"}};
  TemplateScope scope;
  Scope() {
    scope.params = &params;
    scope.secrets = &secrets;
  }
};

TEST(ConninfoTest, AValueStaysInsideItsKeyword) {
  Scope s;
  const Text t = Template("host=db.internal port=5432 dbname=${{ params.db }} user=jane");
  for (const std::string& value :
       {std::string("src host=10.6.6.6 port=1"), std::string("x' host='10.6.6.6"),
        std::string("postgresql://10.6.6.6/x"), std::string("a\\ host=10.6.6.6")}) {
    s.params["db"] = value;
    auto r = ResolveConninfo(t, s.scope);
    ASSERT_TRUE(r.ok()) << r.message();
    EXPECT_THAT(r->keywords, ElementsAre(KV("user", "jane"), KV("dbname", value),
                                         KV("host", "db.internal"), KV("port", "5432")));
    // Written back, libpq reads the same keywords.
    auto again = ParseConninfo(FormatConninfo(r->keywords, false));
    ASSERT_TRUE(again.ok()) << again.message();
    EXPECT_EQ(*again, r->keywords);
  }
}

TEST(ConninfoTest, ValuesInQuotesUrisAndPartsOfValues) {
  Scope s;
  s.params = {{"db", "my db"}, {"host", "db1"}, {"user", "ja ne"}};
  auto r = ResolveConninfo(Template("dbname='${{ params.db }}' host=${{ params.host }}.internal"),
                           s.scope);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_THAT(r->keywords, ElementsAre(KV("dbname", "my db"), KV("host", "db1.internal")));
  r = ResolveConninfo(Template("postgresql://${{ params.user }}@h/${{ params.db }}"), s.scope);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_THAT(r->keywords,
              ElementsAre(KV("user", "ja ne"), KV("dbname", "my db"), KV("host", "h")));
  r = ResolveConninfo(Template("${{ params.db }}"), s.scope);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_THAT(r->keywords, ElementsAre(KV("dbname", "my db")));
}

TEST(ConninfoTest, DisplayMasksThePasswordAndSecrets) {
  Scope s;
  auto r =
      ResolveConninfo(Template("dbname=app password=hunter2 options=${{ secrets.pw }}"), s.scope);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->display, "password=*** dbname=app options=***");
  EXPECT_THAT(r->display, Not(HasSubstr("s3cret")));
}

TEST(ConninfoTest, ErrorsQuoteTheExpressionNotItsValue) {
  Scope s;
  s.params = {{"k", "host"}, {"v", "x"}};
  auto r = ResolveConninfo(Template("dbname=a ${{ params.k }}=evil"), s.scope);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.message(), HasSubstr("invalid connection option \"${{ params.k }}\""));
  r = ResolveConninfo(Template("dbname=${{ params.missing }}"), s.scope);
  EXPECT_FALSE(r.ok());
  r = ResolveConninfo(Template("dbname=a\x1a"
                               "0\x1a"),
                      s.scope);
  EXPECT_THAT(r.message(), HasSubstr("control character"));
}

}  // namespace
}  // namespace runbook
