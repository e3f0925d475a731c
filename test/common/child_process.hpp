// Fault injection in a forked child: a seccomp filter that fails one system call (optionally
// only for one value of its second argument), and a bounded run of a body in a child that
// reports through its exit code and a log the parent reads.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <optional>
#include <signal.h>
#include <string>
#include <string_view>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace asio_uring::test {

/// Installs, for good, on the calling thread (and the threads and processes it starts later) a
/// seccomp filter under which system call `nr` fails with `err`; every other call is allowed.
/// With `arg1`, only calls whose second argument (its low 32 bits, and-ed with `arg1_mask`)
/// equals `*arg1` fail. Filters add up. Call it in a forked child or on a thread of its own.
/// Returns false if the kernel refused the filter.
inline bool fail_syscall_with(long nr, int err, std::optional<std::uint32_t> arg1 = std::nullopt,
                              std::uint32_t arg1_mask = 0xffffffffu) {
  constexpr std::uint32_t arg1_low = offsetof(seccomp_data, args) + sizeof(std::uint64_t)
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
                                     + sizeof(std::uint32_t)
#endif
      ;
  const auto ret_errno = SECCOMP_RET_ERRNO | (static_cast<std::uint32_t>(err) & SECCOMP_RET_DATA);
  std::vector<sock_filter> f;
  f.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
  if (arg1) {
    // nr? then arg1 & mask == value? then fail; anything else: allow (the last instruction).
    f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<std::uint32_t>(nr), 0, 4));
    f.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, arg1_low));
    f.push_back(BPF_STMT(BPF_ALU | BPF_AND | BPF_K, arg1_mask));
    f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, *arg1 & arg1_mask, 0, 1));
  } else {
    f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<std::uint32_t>(nr), 0, 1));
  }
  f.push_back(BPF_STMT(BPF_RET | BPF_K, ret_errno));
  f.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  sock_fprog prog{static_cast<unsigned short>(f.size()), f.data()};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

/// What a child run by run_in_child wrote to the parent, one line at a time.
class child_log {
public:
  explicit child_log(int fd) noexcept : fd_(fd) {}
  void operator()(std::string_view line) const noexcept {
    std::string l(line);
    l += '\n';
    for (std::size_t off = 0; off < l.size();) {
      ssize_t n = ::write(fd_, l.data() + off, l.size() - off);
      if (n <= 0)
        return;
      off += static_cast<std::size_t>(n);
    }
  }

private:
  int fd_;
};

/// How a child ended.
struct child_outcome {
  int exit_code = -1; ///< body's return value (or 100: it threw); -1 if it did not exit
  int signal = 0;     ///< the signal that killed it, if one did
  bool timed_out = false;
  std::string log; ///< what it wrote to its child_log
  bool passed() const noexcept { return exit_code == 0; }
};

/// Runs `int body(const child_log&)` in a forked child and returns how it ended: its result is
/// the exit code. Never use BOOST_TEST in `body` (the child's copy of the framework reports to
/// nobody): return a distinct code per failed check and log what the parent should print. A
/// child still running after `limit` is killed (`timed_out`). The child leaves with _exit, so
/// none of the parent's objects are destroyed twice.
template <class Body>
child_outcome run_in_child(Body body, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  child_outcome out;
  int fds[2];
  if (::pipe(fds) != 0) {
    out.log = "pipe failed";
    return out;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    out.log = "fork failed";
    return out;
  }
  if (pid == 0) {
    ::close(fds[0]);
    child_log log(fds[1]);
    int code = 100;
    try {
      code = body(log);
    } catch (const std::exception& e) {
      log(std::string("unexpected exception: ") + e.what());
    } catch (...) {
      log("unexpected exception");
    }
    ::_exit(code);
  }
  ::close(fds[1]);
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + limit;
  pid_t done;
  while ((done = ::waitpid(pid, &status, WNOHANG)) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      out.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  char buf[1024];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0)
    out.log.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  if (!out.timed_out && WIFEXITED(status))
    out.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    out.signal = WTERMSIG(status);
  return out;
}

} // namespace asio_uring::test
