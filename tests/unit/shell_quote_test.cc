#include "engine/shell_quote.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace runbook {
namespace {

// Runs `script` with /bin/sh -c and returns its standard output.
std::string RunSh(const std::string& script) {
  int fds[2];
  if (pipe(fds) != 0) return "<pipe failed>";
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return out;
}

// Values that break naive splicing. None ends with a newline: $(...) would strip it.
const std::vector<std::string>& NastyValues() {
  static const std::vector<std::string> values = {
      "plain",
      "a b",
      "a\"b",
      "it's",
      "$(echo pwned)",
      "`echo pwned`",
      "${HOME}",
      "line1\nline2",
      "'; DROP TABLE x; --",
      "\\",
      "back\\slash\\",
      "\\\nafter-continuation",
      "",
      "*",
      "~",
      "-n",
      "a=b",
      "#not-a-comment",
      "\"'\"'\\\"",
      "  spaces  around  ",
      "tab\there",
      "semi;colon|pipe&amp>redir<in",
      "(paren) {brace} [bracket]",
      "!bang",
  };
  return values;
}

// Builds `prefix VALUE suffix` with ShellSplicer, runs it, and compares with the expectation.
void ExpectRoundTrip(const std::string& prefix, const std::string& suffix,
                     const std::string& expect_before, const std::string& expect_after) {
  for (const std::string& value : NastyValues()) {
    ShellSplicer s;
    s.AppendLiteral(prefix);
    Result<std::string> quoted = s.AppendValue(value);
    ASSERT_TRUE(quoted.ok()) << quoted.message() << " for " << value;
    s.AppendLiteral(suffix);
    EXPECT_EQ(RunSh(s.script()), expect_before + value + expect_after) << "script: " << s.script();
  }
}

TEST(ShellQuoteTest, SafeWordsStayBare) {
  EXPECT_EQ(ShellQuote("pg_dump"), "pg_dump");
  EXPECT_EQ(ShellQuote("/var/backups/jane-1.dump"), "/var/backups/jane-1.dump");
  EXPECT_EQ(ShellQuote("user@host:5432,x+y%"), "user@host:5432,x+y%");
}

TEST(ShellQuoteTest, OthersAreSingleQuoted) {
  EXPECT_EQ(ShellQuote(""), "''");
  EXPECT_EQ(ShellQuote("a b"), "'a b'");
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
  EXPECT_EQ(ShellQuote("a=b"), "'a=b'");  // never an assignment at the start of a command
}

TEST(ShellQuoteTest, WholeWordsSurviveTheShell) {
  for (const std::string& value : NastyValues()) {
    EXPECT_EQ(RunSh("printf '%s\\n' " + ShellQuote(value)), value + "\n") << value;
  }
}

TEST(ShellSplicerTest, OutsideQuotes) {
  ExpectRoundTrip("printf '%s\\n' ", "", "", "\n");
}

TEST(ShellSplicerTest, InsideAWord) {
  ExpectRoundTrip("printf '%s\\n' pre", "post", "pre", "post\n");
}

TEST(ShellSplicerTest, InsideDoubleQuotes) {
  ExpectRoundTrip("WORKDIR=/w; printf '%s\\n' \"$WORKDIR/", ".sql\"", "/w/", ".sql\n");
}

TEST(ShellSplicerTest, InsideSingleQuotes) {
  ExpectRoundTrip("printf '%s\\n' 'x ", " y'", "x ", " y\n");
}

TEST(ShellSplicerTest, InsideCommandSubstitutionInDoubleQuotes) {
  ExpectRoundTrip("printf '%s\\n' \"$(printf '%s' ", ")\"", "", "\n");
}

TEST(ShellSplicerTest, InsideBackticks) {
  ExpectRoundTrip("printf '%s\\n' \"`printf '%s' ", "`\"", "", "\n");
  ExpectRoundTrip("printf '%s\\n' \"`printf '%s' \\\"", "\\\"`\"", "", "\n");
}

TEST(ShellSplicerTest, AfterQuotesAndParensClose) {
  ExpectRoundTrip("(printf '%s' \"a'b\" 'c\"d' $(echo \")\")); printf '%s\\n' ", "", "a'bc\"d)",
                  "\n");
}

TEST(ShellSplicerTest, InsideHereDocuments) {
  ExpectRoundTrip("cat <<EOF\nhead $((1+1)) ", " tail\nEOF\n", "head 2 ", " tail\n");
  ExpectRoundTrip("cat <<'EOF'\n$x ", "\nEOF\n", "$x ", "\n");
  ExpectRoundTrip("cat <<-\"END\"\n\t", "\n\tEND\necho done", "", "\ndone\n");
  // Two here-documents on one line: the value lands in the second.
  ExpectRoundTrip("cat <<A; cat <<B\na\nA\n", "\nB\n", "a\n", "\n");
}

TEST(ShellSplicerTest, HereDocumentDelimiterInValueIsRefused) {
  ShellSplicer s;
  s.AppendLiteral("cat <<EOF\n");
  EXPECT_FALSE(s.Quote("EOF").ok());
  EXPECT_FALSE(s.Quote("x\nEOF\nrm -rf /").ok());
  EXPECT_TRUE(s.Quote("EOFX").ok());
  s.AppendLiteral("EOF\necho ");  // the body ended: back to code
  EXPECT_EQ(*s.Quote("a b"), "'a b'");
}

TEST(ShellSplicerTest, CommentsTakeValuesWithoutNewlines) {
  ShellSplicer s;
  s.AppendLiteral("echo ok # note: ");
  EXPECT_EQ(*s.Quote("a 'b"), "a 'b");
  Result<std::string> r = s.Quote("x\nrm -rf /");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.message(),
            "a value with a newline cannot go inside a shell comment (it would end the comment)");
  ShellSplicer hash_in_word;
  hash_in_word.AppendLiteral("echo a#");  // not a comment: '#' inside a word
  EXPECT_EQ(*hash_in_word.Quote("x y"), "'x y'");
}

TEST(ShellSplicerTest, ValueAfterDollarOrBackslashIsRefused) {
  ShellSplicer dollar;
  dollar.AppendLiteral("echo \"$");
  EXPECT_FALSE(dollar.Quote("(reboot)").ok());
  ShellSplicer backslash;
  backslash.AppendLiteral("echo \\");
  EXPECT_FALSE(backslash.Quote("x").ok());
  ShellSplicer escaped_dollar;
  escaped_dollar.AppendLiteral("echo \\$");
  EXPECT_EQ(*escaped_dollar.Quote("a b"), "'a b'");
}

}  // namespace
}  // namespace runbook
