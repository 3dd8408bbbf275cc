// Runs `true` N times on an ssh host through the ProcessRunner and the ssh hosts wrapper, and
// prints the total wall time in milliseconds. Used by bench/ssh_bench.sh.
//
//   ssh_bench N reuse|noreuse TARGET PORT IDENTITY OPTIONS_FILE
//
// reuse: one RemoteHosts for all N (one master connection); noreuse: a new one per command (each
// connects, runs, and closes its master).
#include <unistd.h>
#include <chrono>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "engine/process.h"
#include "engine/ssh_hosts.h"

namespace {

class NullSink : public runbook::OutputSink {
 public:
  void Line(runbook::Stream, std::string_view) override {}
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: ssh_bench N reuse|noreuse TARGET PORT IDENTITY OPTIONS_FILE\n");
    return 2;
  }
  const int n = std::stoi(argv[1]);
  const bool reuse = std::string(argv[2]) == "reuse";
  runbook::Host host;
  host.name = "bench";
  host.ssh = argv[3];
  host.port = std::stoi(argv[4]);
  host.identity_file = argv[5];
  std::ifstream options(argv[6]);
  for (std::string line; std::getline(options, line);) host.options.push_back(line);

  auto runner = runbook::MakeSystemProcessRunner();
  runbook::ProcessSpec spec;
  spec.argv = {"true"};
  spec.timeout = std::chrono::seconds(60);
  NullSink sink;
  std::string dir = "/tmp/runbook-bench-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  auto start = std::chrono::steady_clock::now();
  auto hosts = runbook::MakeSshHosts(dir, runner.get());
  for (int i = 0; i < n; ++i) {
    if (!reuse && i > 0) hosts = runbook::MakeSshHosts(dir, runner.get());
    runbook::ProcessResult r = hosts->Run(host, spec, &sink, runbook::CancelToken());
    if (!r.ok()) {
      std::fprintf(stderr, "run %d: %s\n", i, r.Describe().c_str());
      return 1;
    }
  }
  hosts.reset();  // closes the master
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
  std::filesystem::remove_all(dir);
  std::printf("%.1f\n", ms.count());
  return 0;
}
