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

}  // namespace
}  // namespace runbook
