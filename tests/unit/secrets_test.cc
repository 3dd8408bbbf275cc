#include "engine/secrets.h"

#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

namespace runbook {
namespace {

Runbook WithEnvSecret(const std::string& var) {
  Runbook rb;
  rb.path = "rb.yaml";
  Secret s;
  s.name = "token";
  s.source = Secret::Source::kEnv;
  s.ref = var;
  rb.secrets.push_back(s);
  return rb;
}

TEST(SecretsTest, LoadingSecretsEndsCoreDumps) {
  // In a child, so this test process stays as it was.
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::setenv("RB_SECRETS_TEST", "value-long-enough", 1);
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);  // another test of this process may have loaded secrets
    const bool before = prctl(PR_GET_DUMPABLE) == 1;
    const bool loaded = LoadSecrets(WithEnvSecret("RB_SECRETS_TEST")).ok();
    _exit(before && loaded && prctl(PR_GET_DUMPABLE) == 0 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "the process was still dumpable after loading a secret";
}

TEST(SecretsTest, EachLineOfAMultiLineSecretIsMasked) {
  const SecretValues values = {{"key", "-----BEGIN KEY-----\r\nAAAAbbbbCCCC\n-----END KEY-----"}};
  const std::vector<std::string> redact = RedactionList(values);
  // Output is masked a line at a time: each line of the secret must go on its own.
  EXPECT_EQ(Mask("cat says: AAAAbbbbCCCC", redact), "cat says: ***");
  EXPECT_EQ(Mask("-----BEGIN KEY-----", redact), "***");
  EXPECT_EQ(Mask("-----END KEY-----", redact), "***");
}

TEST(SecretsTest, ShortSecretsAreWarnedAbout) {
  ::setenv("RB_SECRETS_SHORT", "abc", 1);
  ::setenv("RB_SECRETS_LONG", "long-enough-value", 1);
  Runbook rb = WithEnvSecret("RB_SECRETS_SHORT");
  Runbook ok = WithEnvSecret("RB_SECRETS_LONG");
  const std::vector<std::string> warnings = ShortSecretWarnings(rb);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("secret 'token' is shorter than 6 characters"), std::string::npos)
      << warnings[0];
  EXPECT_EQ(warnings[0].find("abc"), std::string::npos) << "the value is never shown";
  EXPECT_TRUE(ShortSecretWarnings(ok).empty());
  ::unsetenv("RB_SECRETS_SHORT");
  ::unsetenv("RB_SECRETS_LONG");
}

}  // namespace
}  // namespace runbook
