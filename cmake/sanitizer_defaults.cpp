// Linked into every program of a REMEX_SANITIZE build (cmake/sanitizers.cmake).
// Every report goes to a file in the build's report folder instead of
// stderr: remexd's stderr is a log nobody reads, and the agent shipped to the
// sshd fixture runs as another user with sshd's environment, so a report on
// stderr could be lost. The `sanitizer_reports` test fails on any file there.
// REMEX_ASAN_QUARANTINE_MB: how much freed memory ASan holds back
// (cmake/sanitizers.cmake says why).
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>

// The sanitizers read these before the environment (ASAN_OPTIONS...), which
// still overrides them flag by flag.
extern "C" const char* __asan_default_options() {
  return "log_path=" REMEX_SANITIZER_REPORTS
         "/report:log_exe_name=1"
         ":detect_leaks=1"
         ":quarantine_size_mb=" REMEX_ASAN_QUARANTINE_MB;
}

extern "C" const char* __ubsan_default_options() {
  return "log_exe_name=1:print_stacktrace=1:halt_on_error=1";
}

namespace {

// gcc links UBSan as a runtime of its own beside ASan's, and that copy never
// applies log_path (it thinks ASan will): its report path is set here,
// through its own symbol, unless UBSAN_OPTIONS names one.
__attribute__((constructor)) void ubsan_reports_to_file() {
  const char* options = std::getenv("UBSAN_OPTIONS");
  if (options && std::strstr(options, "log_path=")) return;
  void* ubsan = dlopen("libubsan.so.1", RTLD_NOW | RTLD_NOLOAD);
  if (!ubsan) return;
  using set_path = void (*)(const char*);
  auto set =
      reinterpret_cast<set_path>(dlsym(ubsan, "__sanitizer_set_report_path"));
  if (set) set(REMEX_SANITIZER_REPORTS "/report");
}

}  // namespace
