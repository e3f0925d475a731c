// Faults injected through real kernel mechanisms, and what a user sees: a seccomp filter failing
// one io_uring_register opcode, dropped capabilities under a tiny RLIMIT_MEMLOCK, the fallbacks
// io_context_options forces, a 2-entry SQ and a minimal CQ under mixed and multishot bursts,
// RLIMIT_NOFILE, and the kernel.io_uring_disabled sysctl. Each ends in a clear error or a working
// fallback, never a crash, a hang or lost data.
#include "child_process.hpp"
#include "fixtures.hpp"
#include "socket_fixtures.hpp"

#include <asio_uring.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>

#include <liburing/io_uring.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <dirent.h>
#include <dlfcn.h>
#include <exception>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <grp.h>
#include <initializer_list>
#include <linux/capability.h>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace asio = boost::asio;
using asio_uring::buffer_pool;
using asio_uring::buffer_ring;
using asio_uring::file_base;
using asio_uring::io_context;
using asio_uring::pooled_buffer;
using asio_uring::random_access_file;
using asio_uring::ring_buffer;
using asio_uring::steady_timer;
using asio_uring::ip::tcp;
using asio_uring::posix::stream_descriptor;
using asio_uring::test::child_log;
using asio_uring::test::tracked_buffer;
using boost::system::error_code;
using namespace std::chrono_literals;
namespace test = asio_uring::test;

namespace {

struct temp_path {
  std::string path;
  explicit temp_path(const std::string& content = {}) {
    char p[] = "/tmp/asio_uring_fault_XXXXXX";
    int fd = ::mkstemp(p);
    BOOST_TEST_REQUIRE(fd >= 0);
    BOOST_TEST_REQUIRE(::write(fd, content.data(), content.size()) ==
                       static_cast<ssize_t>(content.size()));
    ::close(fd);
    path = p;
  }
  ~temp_path() { ::unlink(path.c_str()); }
};

std::string pattern(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>('a' + (i * 7 + seed * 13) % 26);
  return s;
}

std::string text(const ring_buffer& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

bool contains(std::string_view s, std::string_view what) {
  return s.find(what) != std::string_view::npos;
}

tcp::endpoint loopback() {
  return tcp::endpoint(asio::ip::address_v4::loopback(), 0);
}

// Drops `caps` from this process's effective and permitted sets (raw capget/capset: no libcap).
bool drop_capabilities(std::initializer_list<int> caps) {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2];
  if (::syscall(SYS_capget, &hdr, data) != 0)
    return false;
  for (int c : caps) {
    data[c / 32].effective &= ~(1u << (c % 32));
    data[c / 32].permitted &= ~(1u << (c % 32));
  }
  return ::syscall(SYS_capset, &hdr, data) == 0;
}

// Receives `msg`, sent on a fresh connection, through ring receives on `ring`. For children:
// no BOOST_TEST.
bool receive_through(io_context& ctx, buffer_ring& ring, const std::string& msg) {
  auto [a, b] = test::connected_pair(ctx);
  std::string got;
  bool failed = false;
  std::function<void()> next = [&] {
    a.async_receive(ring, [&](error_code ec, ring_buffer buf) {
      if (ec) {
        failed = true;
        return;
      }
      got += text(buf);
      if (got.size() < msg.size())
        next();
    });
  };
  next();
  b.send(asio::buffer(msg));
  ctx.restart();
  ctx.run_for(5s);
  return !failed && got == msg;
}

// The io_uring descriptors this process has open.
std::vector<std::string> io_uring_fds() {
  std::vector<std::string> fds;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (::dirent* e = ::readdir(d)) {
      char link[64] = {};
      std::string path = std::string("/proc/self/fd/") + e->d_name;
      if (e->d_name[0] != '.' && ::readlink(path.c_str(), link, sizeof link - 1) > 0 &&
          std::string_view(link) == "anon_inode:[io_uring]")
        fds.push_back(e->d_name);
    }
    ::closedir(d);
  }
  return fds;
}

// CQEs on the kernel's overflow list (no room in the CQ) of the rings `fds`, from their fdinfo:
// "CqOverflowList:" and one "  user_data=..." line per CQE.
int cq_overflow_entries(const std::vector<std::string>& fds) {
  int n = 0;
  for (const std::string& fd : fds) {
    std::ifstream info("/proc/self/fdinfo/" + fd);
    std::string line;
    bool in_list = false;
    while (std::getline(info, line)) {
      if (line.rfind("CqOverflowList:", 0) == 0)
        in_list = true;
      else if (in_list && contains(line, "user_data="))
        ++n;
      else
        in_list = false;
    }
  }
  return n;
}

} // namespace

BOOST_AUTO_TEST_SUITE(fault_injection_tests)

// ---- 1. ENOMEM from IORING_REGISTER_PBUF_RING --------------------------------------------------

// A seccomp filter fails exactly io_uring_register(IORING_REGISTER_PBUF_RING) with ENOMEM, as
// the kernel does when it cannot pin the ring. The user gets a system_error naming the cause and
// the remedy; the context, and its other registrations, keep working.
BOOST_AUTO_TEST_CASE(
    buffer_ring_registration_enomem_is_a_clear_error_and_the_context_keeps_working) {
  auto out = test::run_in_child([](const child_log& log) {
    // Bit 31 of the opcode is IORING_REGISTER_USE_REGISTERED_RING in newer liburings.
    if (!test::fail_syscall_with(__NR_io_uring_register, ENOMEM, IORING_REGISTER_PBUF_RING,
                                 0x7fffffffu))
      return 3;
    io_context ctx;
    for (int attempt = 0; attempt < 2; ++attempt) { // and again: the same clear error
      try {
        buffer_ring ring(ctx, 64, 256);
        return 10;
      } catch (const boost::system::system_error& e) {
        log(e.what());
        if (e.code() != error_code(ENOMEM, boost::system::system_category()))
          return 11;
      }
    }
    int fds[2];
    if (::pipe(fds) != 0)
      return 4;
    bool fired = false;
    std::string got;
    steady_timer timer(ctx, 1ms);
    timer.async_wait([&](error_code ec) { fired = !ec; });
    stream_descriptor in(ctx, fds[0]);
    in.async_read_some(std::string(16, '\0'), [&](error_code ec, std::size_t n, std::string b) {
      if (!ec)
        got = b.substr(0, n);
    });
    if (::write(fds[1], "ping", 4) != 4)
      return 5;
    ctx.run_for(5s);
    ::close(fds[1]);
    if (!fired)
      return 12;
    if (got != "ping")
      return 13;
    buffer_pool pool(ctx, 2, 4096); // IORING_REGISTER_BUFFERS*: not filtered, still works
    if (pool.available() != 2)
      return 14;
    return 0;
  });
  BOOST_TEST_MESSAGE("child: " << out.log);
  BOOST_TEST(out.exit_code == 0, "child exit " << out.exit_code << " signal " << out.signal
                                               << (out.timed_out ? " (hung)" : "") << ": "
                                               << out.log);
  BOOST_TEST(contains(out.log, "provided-buffer ring"));
  BOOST_TEST(contains(out.log, "ENOMEM"));
  BOOST_TEST(contains(out.log, "RLIMIT_MEMLOCK"));
  BOOST_TEST(contains(out.log, "Remedy"));
}

// ---- 2. RLIMIT_MEMLOCK without CAP_IPC_LOCK ----------------------------------------------------

// buffer_pool_tests/memlock_limit_gives_a_clear_error covers registered buffers. Here: a buffer
// ring whose ring of addresses (32768 slots, 512 KiB) is 8x a 64 KiB limit either registers (a
// kernel that does not charge it) and moves data, or fails with ENOMEM naming RLIMIT_MEMLOCK;
// after that failure (and one of a pool) smaller ones on the same context still move data.
BOOST_AUTO_TEST_CASE(memlock_limit_on_a_buffer_ring_fails_clearly_or_works_and_smaller_ones_work) {
  temp_path file(pattern(8192, 3));
  auto out = test::run_in_child([&file](const child_log& log) {
    rlimit rl{64 * 1024, 64 * 1024};
    if (!drop_capabilities({CAP_IPC_LOCK}) || ::setrlimit(RLIMIT_MEMLOCK, &rl) != 0)
      return 3;
    std::optional<io_context> ctx;
    try {
      ctx.emplace();
    } catch (const boost::system::system_error& e) { // kernels before 5.12 charge the rings
      log(std::string("context: ") + e.what());
      return e.code().value() == ENOMEM && contains(e.what(), "ulimit -l") ? 20 : 21;
    }
    try {
      buffer_ring big(*ctx, 32768, 16);
      log("32768-slot ring: registered (this kernel does not charge it to RLIMIT_MEMLOCK)");
      if (!receive_through(*ctx, big, pattern(4096, 1)))
        return 30;
    } catch (const boost::system::system_error& e) {
      log(std::string("32768-slot ring: ") + e.what());
      if (e.code().value() != ENOMEM || !contains(e.what(), "RLIMIT_MEMLOCK") ||
          !contains(e.what(), "ulimit -l"))
        return 31;
    }
    buffer_ring small(*ctx, 8, 512); // one page of addresses: within the limit
    if (!receive_through(*ctx, small, pattern(3000, 2)))
      return 32;
    try {
      buffer_pool big_pool(*ctx, 64, 1 << 20);
      log("64 MiB pool: registered");
    } catch (const boost::system::system_error& e) {
      log(std::string("64 MiB pool: ") + e.what());
      if (e.code().value() != ENOMEM)
        return 33;
    }
    buffer_pool pool(*ctx, 2, 4096);
    random_access_file f(*ctx, file.path, file_base::read_only);
    std::string got;
    f.async_read_some_at(4096, std::move(*pool.try_acquire()),
                         [&](error_code ec, std::size_t n, pooled_buffer b) {
                           if (!ec)
                             got.assign(reinterpret_cast<const char*>(b.data()), n);
                         });
    ctx->restart();
    ctx->run_for(5s);
    if (got != pattern(8192, 3).substr(4096))
      return 34;
    return 0;
  });
  BOOST_TEST_MESSAGE("child:\n" << out.log);
  BOOST_TEST((out.exit_code == 0 || out.exit_code == 20),
             "child exit " << out.exit_code << " signal " << out.signal
                           << (out.timed_out ? " (hung)" : "") << ": " << out.log);
}

// ---- 3. Fallbacks forced through io_context_options --------------------------------------------

namespace {

constexpr int workload_connections = 4;
constexpr int workload_messages = 16;

std::string workload_message(int conn, int i) {
  return pattern(1 + static_cast<std::size_t>(conn * 37 + i * 53) % 300,
                 static_cast<unsigned>(conn * 100 + i));
}

// What the workload saw. Handlers may run on a worker thread: they record, the test asserts.
struct workload_result {
  unsigned setup_flags = 0; // what the kernel accepted for the workload's ring
  bool finished = false;
  int echoed = 0;         // connections whose echo matched byte for byte
  int sessions_ended = 0; // server sessions that saw EOF
  bool file_ok = false;
  std::vector<int> timer_order;
  error_code cancelled_timer;
  std::string failure; // every unexpected error
  void note(const char* where, error_code ec) {
    failure += std::string(where) + ": " + ec.message() + "; ";
  }
};

// Server side: ring receives (multishot recv with the ring's buffers), echoed with owned writes.
struct echo_session : std::enable_shared_from_this<echo_session> {
  echo_session(tcp::socket s, buffer_ring& r, workload_result& res)
      : socket(std::move(s)), ring(r), result(res) {}
  void receive() {
    socket.async_receive(ring, [self = shared_from_this()](error_code ec, ring_buffer buf) {
      if (ec == asio::error::eof) {
        ++self->result.sessions_ended;
        return;
      }
      if (ec)
        return self->result.note("server receive", ec);
      std::string copy = text(buf);
      buf.reset(); // back to the ring at once
      asio_uring::async_write(self->socket, std::move(copy),
                              [self](error_code wec, std::size_t, std::string) {
                                if (wec)
                                  return self->result.note("server write", wec);
                                self->receive();
                              });
    });
  }
  tcp::socket socket;
  buffer_ring& ring;
  workload_result& result;
};

// Client side: owned writes of the messages one after the other while owned reads collect the echo.
struct echo_client : std::enable_shared_from_this<echo_client> {
  echo_client(io_context& ctx, int i, workload_result& res) : socket(ctx), id(i), result(res) {
    for (int m = 0; m < workload_messages; ++m)
      expected += workload_message(id, m);
  }
  void start(const tcp::endpoint& ep) {
    socket.async_connect(ep, [self = shared_from_this()](error_code ec) {
      if (ec)
        return self->result.note("connect", ec);
      self->send(0);
      self->read();
    });
  }
  void send(int m) {
    if (m == workload_messages)
      return;
    asio_uring::async_write(
        socket, workload_message(id, m),
        [self = shared_from_this(), m](error_code ec, std::size_t, std::string) {
          if (ec)
            return self->result.note("client write", ec);
          self->send(m + 1);
        });
  }
  void read() {
    socket.async_read_some(
        std::vector<char>(512),
        [self = shared_from_this()](error_code ec, std::size_t n, std::vector<char> b) {
          if (ec)
            return self->result.note("client read", ec);
          self->got.append(b.data(), n);
          if (self->got.size() < self->expected.size())
            return self->read();
          self->result.echoed += self->got == self->expected;
          // The client goes away here: the server's receive sees EOF.
        });
  }
  tcp::socket socket;
  int id;
  workload_result& result;
  std::string expected, got;
};

// TCP echo over several connections (multishot accept, ring receives, owned writes and reads),
// a file written and read back with owned buffers, and timers (order and cancellation).
// `switch_thread`: poll once here with everything in the kernel, then run on another thread.
workload_result run_workload(const io_context::options& o, bool switch_thread = false) {
  workload_result r;
  io_context ctx(o);
  r.setup_flags = ctx.ring_setup_flags();
  tcp::acceptor acceptor(ctx, loopback());
  buffer_ring ring(ctx, 16, 64); // messages span several buffers
  std::function<void(int)> accept_next = [&](int left) {
    if (left == 0)
      return;
    acceptor.async_accept([&, left](error_code ec, tcp::socket s) {
      if (ec)
        return r.note("accept", ec);
      std::make_shared<echo_session>(std::move(s), ring, r)->receive();
      accept_next(left - 1);
    });
  };
  accept_next(workload_connections);
  for (int i = 0; i < workload_connections; ++i)
    std::make_shared<echo_client>(ctx, i, r)->start(acceptor.local_endpoint());

  temp_path tmp;
  random_access_file f(ctx, tmp.path, file_base::read_write);
  const std::string data = pattern(64 * 1024, 7);
  asio_uring::async_write_at(
      f, 4096, std::string(data), [&](error_code ec, std::size_t n, std::string) {
        if (ec || n != data.size())
          return r.note("file write", ec);
        asio_uring::async_read_at(f, 4096, std::string(data.size(), '\0'),
                                  [&](error_code rec, std::size_t rn, std::string back) {
                                    r.file_ok = !rec && rn == data.size() && back == data;
                                  });
      });

  steady_timer t1(ctx, 10ms), t2(ctx, 20ms), t3(ctx, 30ms), never(ctx, 1h);
  t3.async_wait([&](error_code ec) {
    if (!ec)
      r.timer_order.push_back(3);
    never.cancel();
  });
  t1.async_wait([&](error_code ec) {
    if (!ec)
      r.timer_order.push_back(1);
  });
  t2.async_wait([&](error_code ec) {
    if (!ec)
      r.timer_order.push_back(2);
  });
  never.async_wait([&](error_code ec) { r.cancelled_timer = ec; });

  auto run = [&] {
    ctx.run_for(10s);
    r.finished = ctx.stopped();
  };
  if (!switch_thread) {
    run();
    return r;
  }
  ctx.poll(); // this thread enables the ring and submits; the timers at least are still due
  std::exception_ptr error;
  std::thread worker([&] {
    try {
      run();
    } catch (...) {
      error = std::current_exception();
    }
  });
  worker.join();
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      r.failure += std::string("run on the second thread threw: ") + e.what();
    }
  }
  return r;
}

void check_workload(const workload_result& r) {
  BOOST_TEST(r.finished, "the workload did not finish within 10 s");
  BOOST_TEST(r.failure.empty(), r.failure);
  BOOST_TEST(r.echoed == workload_connections);
  BOOST_TEST(r.sessions_ended == workload_connections);
  BOOST_TEST(r.file_ok);
  BOOST_TEST(r.timer_order == (std::vector<int>{1, 2, 3}), boost::test_tools::per_element());
  BOOST_TEST(r.cancelled_timer == asio::error::operation_aborted);
}

// Connections the process holds after one async_accept completed with five waiting in the
// backlog: multishot accept takes them all (kept for the next async_accept), a one-shot accept
// one. Then the other four are accepted: none is lost either way.
std::pair<int, int> connections_taken_by_one_accept(const io_context::options& o) {
  io_context ctx(o);
  tcp::acceptor acceptor(ctx, loopback());
  std::vector<tcp::socket> clients;
  int before = test::open_fd_count();
  std::vector<tcp::socket> accepted;
  auto on_accept = [&](error_code ec, tcp::socket s) {
    if (!ec)
      accepted.push_back(std::move(s));
  };
  acceptor.async_accept(on_accept);
  for (int i = 0; i < 5; ++i) {
    clients.emplace_back(ctx);
    clients.back().connect(acceptor.local_endpoint());
  }
  steady_timer settle(ctx, 20ms); // time for a multishot accept to take the rest
  settle.async_wait([](error_code) {});
  test::run_bounded(ctx);
  int taken = test::open_fd_count() - before - 5;
  for (int i = 0; i < 4; ++i)
    acceptor.async_accept(on_accept);
  ctx.restart();
  test::run_bounded(ctx);
  return {taken, static_cast<int>(accepted.size())};
}

// Ring buffers the process holds after a ring receive completed and more data arrived with no
// receive waiting: a multishot recv keeps receiving (one buffer), a one-shot recv does not.
// `all`: everything received once a second receive was started.
std::size_t ring_buffers_taken_while_idle(const io_context::options& o, std::string& all) {
  io_context ctx(o);
  buffer_ring ring(ctx, 8, 64);
  auto [a, b] = test::connected_pair(ctx);
  auto on_receive = [&](error_code ec, ring_buffer buf) {
    if (!ec)
      all += text(buf);
  };
  a.async_receive(ring, on_receive);
  b.send(asio::buffer("one", 3));
  test::run_bounded(ctx);
  b.send(asio::buffer("two", 3));
  steady_timer settle(ctx, 20ms);
  settle.async_wait([](error_code) {});
  ctx.restart();
  test::run_bounded(ctx);
  std::size_t taken = ring.in_use();
  a.async_receive(ring, on_receive);
  ctx.restart();
  test::run_bounded(ctx);
  return taken;
}

} // namespace

// multishot = false: accepts and ring receives go one-shot (observed: connections and ring
// buffers are only taken when an operation asks), and the workload still works.
BOOST_AUTO_TEST_CASE(multishot_off_takes_the_one_shot_path_and_the_workload_works) {
  io_context::options multi, single;
  single.multishot = false;
  // The probes tell the two paths apart (this kernel has multishot accept and recv).
  BOOST_TEST((connections_taken_by_one_accept(multi) == std::pair<int, int>{5, 5}));
  BOOST_TEST((connections_taken_by_one_accept(single) == std::pair<int, int>{1, 5}));
  std::string all_multi, all_single;
  BOOST_TEST(ring_buffers_taken_while_idle(multi, all_multi) == 1u);
  BOOST_TEST(ring_buffers_taken_while_idle(single, all_single) == 0u);
  BOOST_TEST(all_multi == "onetwo");
  BOOST_TEST(all_single == "onetwo");
  check_workload(run_workload(single));
}

BOOST_AUTO_TEST_CASE(defer_taskrun_off_uses_coop_taskrun_and_the_workload_works) {
  io_context::options o;
  o.defer_taskrun = false;
  workload_result r = run_workload(o);
  BOOST_TEST((r.setup_flags & IORING_SETUP_DEFER_TASKRUN) == 0u);
  BOOST_TEST((r.setup_flags & IORING_SETUP_COOP_TASKRUN) != 0u);
  check_workload(r);
}

// single_issuer = false: no SINGLE_ISSUER (and so no DEFER_TASKRUN), and a second thread may take
// over a ring whose operations another thread submitted (with SINGLE_ISSUER that throws:
// io_context_tests/running_from_a_new_thread_with_ops_in_the_kernel_is_a_clear_error).
BOOST_AUTO_TEST_CASE(single_issuer_off_lets_another_thread_finish_the_workload) {
  io_context::options o;
  o.single_issuer = false;
  workload_result r = run_workload(o, true);
  BOOST_TEST((r.setup_flags & IORING_SETUP_SINGLE_ISSUER) == 0u);
  BOOST_TEST((r.setup_flags & IORING_SETUP_DEFER_TASKRUN) == 0u);
  check_workload(r);
}

BOOST_AUTO_TEST_CASE(submit_all_off_and_the_workload_works) {
  io_context::options o;
  o.submit_all = false;
  workload_result r = run_workload(o);
  BOOST_TEST((r.setup_flags & IORING_SETUP_SUBMIT_ALL) == 0u);
  BOOST_TEST((r.setup_flags & IORING_SETUP_SINGLE_ISSUER) != 0u); // the others are kept
  check_workload(r);
}

// ---- 4. A full SQ under a mixed load -----------------------------------------------------------

// A 2-entry SQ and a 4-entry CQ; ~450 operations of five kinds started from one handler (so
// every get_sqe past the second flushes): TCP writes and reads, file reads, timers, pipe reads
// cancelled through their slots before and after reaching the kernel (with the cancel SQEs going
// through the same SQ). Every handler runs exactly once with the right data; no buffer is freed
// while the kernel may touch it, none leaks.
BOOST_FIXTURE_TEST_CASE(two_entry_sq_with_hundreds_of_mixed_ops_completes_each_exactly_once,
                        test::tracked_fixture) {
  io_context::options o;
  o.entries = 2;
  o.cq_entries = 4;
  io_context ctx(o);
  constexpr int pairs_n = 16, per_pair = 4, streams = pairs_n * per_pair; // 64 writes, 64 reads
  constexpr int file_reads = 128, timers_n = 64, cancels_n = 64;
  const std::string content = pattern(file_reads * 512, 5);
  temp_path tmp(content);
  random_access_file file(ctx, tmp.path, file_base::read_only);
  std::vector<std::pair<tcp::socket, tcp::socket>> pairs;
  for (int i = 0; i < pairs_n; ++i)
    pairs.push_back(test::connected_pair(ctx));
  std::vector<test::pipe_pair> pipes(cancels_n);
  std::vector<std::unique_ptr<stream_descriptor>> readers;
  for (auto& p : pipes)
    readers.push_back(std::make_unique<stream_descriptor>(ctx, ::dup(p.read_end)));
  std::vector<asio::cancellation_signal> signals(cancels_n);
  std::vector<std::unique_ptr<steady_timer>> timers;
  steady_timer canceller(ctx);

  enum kind { write_op, read_op, file_op, timer_op, cancel_op };
  std::map<std::pair<int, int>, int> calls; // (kind, index) -> handler runs
  std::vector<std::string> wrong;
  auto record = [&](kind k, int i, bool ok, const std::string& what) {
    ++calls[{k, i}];
    if (!ok)
      wrong.push_back(what + " " + std::to_string(i));
  };
  const asio::cancellation_type types[] = {asio::cancellation_type::terminal,
                                           asio::cancellation_type::partial,
                                           asio::cancellation_type::total};

  asio::post(ctx, [&] {
    for (int i = 0; i < file_reads; ++i) {
      if (i < streams) {
        // Write i and read i are the (i % 4)th of their socket's direction: FIFO, so read i gets
        // write i's bytes.
        auto& [server, client] = pairs[static_cast<std::size_t>(i / per_pair)];
        client.async_write_some(tracked_buffer(256, std::byte(i)),
                                [&, i](error_code ec, std::size_t n, tracked_buffer b) {
                                  record(write_op, i, !ec && n == 256 && b.size() == 256, "write");
                                });
        server.async_read_some(tracked_buffer(256), [&, i](error_code ec, std::size_t n,
                                                           tracked_buffer b) {
          bool ok =
              !ec && n == 256 && b.size() == 256 &&
              std::all_of(b.data(), b.data() + n, [&](std::byte x) { return x == std::byte(i); });
          record(read_op, i, ok, "read");
        });
      }
      file.async_read_some_at(static_cast<std::uint64_t>(i) * 512, tracked_buffer(512),
                              [&, i](error_code ec, std::size_t n, tracked_buffer b) {
                                bool ok = !ec && n == 512 &&
                                          std::string_view(reinterpret_cast<char*>(b.data()), n) ==
                                              std::string_view(content).substr(i * 512, 512);
                                record(file_op, i, ok, "file read");
                              });
      if (i < timers_n) {
        timers.push_back(std::make_unique<steady_timer>(ctx, std::chrono::milliseconds(i % 8)));
        timers.back()->async_wait([&, i](error_code ec) { record(timer_op, i, !ec, "timer"); });
      }
      if (i < cancels_n) {
        readers[static_cast<std::size_t>(i)]->async_read_some(
            tracked_buffer(16),
            asio::bind_cancellation_slot(signals[static_cast<std::size_t>(i)].slot(),
                                         [&, i](error_code ec, std::size_t n, tracked_buffer b) {
                                           // Terminal may hand back an empty buffer (EALREADY); a
                                           // pipe read is cancelled.
                                           bool ok = ec == asio::error::operation_aborted &&
                                                     n == 0 &&
                                                     (b.size() == 16 || (i % 3 == 0 && b.empty()));
                                           record(cancel_op, i, ok, "cancelled read");
                                         }));
        if (i % 2 == 0) // prepared, not yet submitted
          signals[static_cast<std::size_t>(i)].emit(types[i % 3]);
      }
    }
    canceller.expires_after(5ms); // the others are in the kernel by then
    canceller.async_wait([&](error_code) {
      for (int i = 1; i < cancels_n; i += 2)
        signals[static_cast<std::size_t>(i)].emit(types[i % 3]);
    });
  });
  test::run_bounded(ctx);
  BOOST_TEST(wrong.empty(),
             wrong.size() << " wrong results, first: " << (wrong.empty() ? "" : wrong.front()));
  const std::pair<kind, int> counts[] = {{write_op, streams},
                                         {read_op, streams},
                                         {file_op, file_reads},
                                         {timer_op, timers_n},
                                         {cancel_op, cancels_n}};
  BOOST_TEST(calls.size() ==
             static_cast<std::size_t>(2 * streams + file_reads + timers_n + cancels_n));
  for (auto [k, n] : counts)
    for (int i = 0; i < n; ++i) {
      int ran = calls[std::pair<int, int>(k, i)];
      BOOST_TEST(ran == 1, "kind " << k << " op " << i << " ran " << ran << " times");
    }
}

// ---- 5. CQ overflow with multishot -------------------------------------------------------------

// 32 connections wait in the backlog, each with 512 bytes and a FIN queued, before the context
// runs. Multishot accept posts 32 CQEs and the multishot ring receives (16-byte buffers, 128 of
// them: the ring runs dry too) ~1,000 more into a 2-entry CQ: the kernel keeps the rest on its
// overflow list (observed through fdinfo). Every connection is accepted exactly once and
// receives its bytes exactly once, in order, then EOF.
BOOST_AUTO_TEST_CASE(cq_overflow_under_multishot_accept_and_ring_receives_loses_nothing) {
  io_context::options o;
  o.entries = 2;
  o.cq_entries = 2;
  io_context ctx(o);
  tcp::acceptor acceptor(ctx, loopback());
  buffer_ring ring(ctx, 128, 16);
  constexpr int clients_n = 32;
  constexpr std::size_t payload_size = 512;
  std::vector<tcp::socket> clients;
  std::map<unsigned short, int> client_by_port;
  for (int i = 0; i < clients_n; ++i) {
    clients.emplace_back(ctx);
    clients.back().connect(acceptor.local_endpoint());
    std::string payload = pattern(payload_size, static_cast<unsigned>(i));
    BOOST_TEST_REQUIRE(clients.back().send(asio::buffer(payload)) == payload_size);
    clients.back().shutdown(tcp::socket::shutdown_send);
    client_by_port[clients.back().local_endpoint().port()] = i;
  }

  struct connection {
    explicit connection(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    int client = -1;
    std::string got;
    bool eof = false;
  };
  std::vector<std::unique_ptr<connection>> conns;
  std::vector<std::string> errors;
  const std::vector<std::string> rings = io_uring_fds();
  BOOST_TEST_REQUIRE(rings.size() == 1u); // this context's
  int max_overflow = 0;
  std::function<void(connection&)> receive = [&](connection& c) {
    c.socket.async_receive(ring, [&](error_code ec, ring_buffer buf) {
      max_overflow = std::max(max_overflow, cq_overflow_entries(rings));
      if (ec == asio::error::eof) {
        c.eof = true;
        return;
      }
      if (ec)
        return errors.push_back("receive: " + ec.message());
      c.got += text(buf);
      receive(c);
    });
  };
  std::function<void()> accept_next = [&] {
    acceptor.async_accept([&](error_code ec, tcp::socket s) {
      max_overflow = std::max(max_overflow, cq_overflow_entries(rings));
      if (ec)
        return errors.push_back("accept: " + ec.message());
      auto c = std::make_unique<connection>(std::move(s));
      auto it = client_by_port.find(c->socket.remote_endpoint().port());
      c->client = it == client_by_port.end() ? -1 : it->second;
      receive(*c);
      conns.push_back(std::move(c));
      if (conns.size() < clients_n)
        accept_next();
    });
  };
  accept_next();
  test::run_bounded(ctx);

  BOOST_TEST_MESSAGE("most CQEs seen on the kernel's overflow list at once: " << max_overflow);
  BOOST_TEST(max_overflow > 0, "the CQ never overflowed: the test does not test what it says");
  BOOST_TEST(errors.empty(), errors.size()
                                 << " errors, first: " << (errors.empty() ? "" : errors.front()));
  BOOST_TEST_REQUIRE(conns.size() == static_cast<std::size_t>(clients_n));
  std::vector<int> seen(clients_n, 0);
  for (auto& c : conns) {
    BOOST_TEST_REQUIRE(c->client >= 0);
    ++seen[static_cast<std::size_t>(c->client)];
    BOOST_TEST(c->got == pattern(payload_size, static_cast<unsigned>(c->client)),
               "client " << c->client << ": " << c->got.size() << " bytes");
    BOOST_TEST(c->eof);
  }
  BOOST_TEST(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
  BOOST_TEST(ring.in_use() == 0u);
}

// ---- 6. EMFILE where the library creates descriptors -------------------------------------------

namespace {
// RLIMIT_NOFILE lowered in this process so that only `spare` more descriptors fit (the limit is
// on descriptor numbers: the lowest free number plus `spare`); restored on destruction.
struct fd_limit {
  rlimit old{};
  explicit fd_limit(int spare) {
    BOOST_TEST_REQUIRE(::getrlimit(RLIMIT_NOFILE, &old) == 0);
    int lowest_free = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    BOOST_TEST_REQUIRE(lowest_free >= 0);
    ::close(lowest_free);
    rlimit low = old;
    low.rlim_cur = static_cast<rlim_t>(lowest_free + spare);
    BOOST_TEST_REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
  }
  ~fd_limit() { ::setrlimit(RLIMIT_NOFILE, &old); }
  fd_limit(const fd_limit&) = delete;
  fd_limit& operator=(const fd_limit&) = delete;
};

// The system_error `f` throws, or a default one if it throws none.
template <class F>
std::pair<error_code, std::string> error_of(F f) {
  try {
    f();
  } catch (const boost::system::system_error& e) {
    return {e.code(), e.what()};
  }
  return {};
}

// Whether UBSan's vptr check is linked in. It probes memory through a pipe, so while the process
// really is out of descriptors it reports false positives (on any exception thrown then).
bool ubsan_vptr_check_linked() {
  return ::dlsym(RTLD_DEFAULT, "__ubsan_handle_dynamic_type_cache_miss") != nullptr ||
         ::dlsym(RTLD_DEFAULT, "__ubsan_handle_dynamic_type_cache_miss_abort") != nullptr;
}

enum class emfile_source {
  rlimit_nofile, // RLIMIT_NOFILE lowered in this process, restored after
  seccomp        // a thread of its own whose seccomp filter fails the calls with EMFILE
};

// Runs `f` where creating descriptors fails with EMFILE: with `spare` 0 every descriptor, with 1
// all but one (the context's eventfd fits, its ring does not). With seccomp the filter fails
// eventfd2, openat and socket (spare 0) or io_uring_setup (spare 1), and ends with the thread.
// `f` must not use BOOST_TEST (it may run on that thread). False if the fault could not be set.
template <class F>
bool with_emfile(emfile_source source, int spare, F f) {
  if (source == emfile_source::rlimit_nofile) {
    fd_limit limit(spare);
    f();
    return true;
  }
  bool installed = false;
  std::thread([&] {
    if (spare == 0)
      installed = test::fail_syscall_with(__NR_eventfd2, EMFILE) &&
                  test::fail_syscall_with(__NR_openat, EMFILE) &&
                  test::fail_syscall_with(__NR_socket, EMFILE);
    else
      installed = test::fail_syscall_with(__NR_io_uring_setup, EMFILE);
    if (installed)
      f();
  }).join();
  return installed;
}

// Out of descriptors: constructing a context (its eventfd, or its ring), opening a file and the
// socket an async_connect opens fail with EMFILE and say so, leaking no descriptor; once
// descriptors can be created again the very same objects work.
void check_emfile(emfile_source source) {
  io_context ctx;
  temp_path tmp("file content");
  tcp::acceptor acceptor(ctx, loopback());
  tcp::socket client(ctx); // not open: async_connect opens it
  random_access_file file(ctx);
  const error_code emfile(EMFILE, boost::system::system_category());
  std::pair<error_code, std::string> no_eventfd, no_ring, no_file;
  error_code connect_ec;
  int fds = test::open_fd_count();
  BOOST_TEST_REQUIRE(with_emfile(source, 0, [&] {
    no_eventfd = error_of([] { io_context other; });
    no_file = error_of([&] { file.open(tmp.path, file_base::read_only); });
    client.async_connect(acceptor.local_endpoint(), [&](error_code ec) { connect_ec = ec; });
  }));
  BOOST_TEST_REQUIRE(with_emfile(source, 1, [&] { no_ring = error_of([] { io_context other; }); }));
  test::run_bounded(ctx);
  BOOST_TEST(test::open_fd_count() == fds); // the eventfd of the failed context was closed
  BOOST_TEST_MESSAGE("context, no fd: " << no_eventfd.second);
  BOOST_TEST_MESSAGE("context, one fd: " << no_ring.second);
  BOOST_TEST_MESSAGE("file: " << no_file.second);
  for (auto& [ec, what] : {no_eventfd, no_ring}) {
    BOOST_TEST(ec == emfile);
    BOOST_TEST(contains(what, "asio_uring::io_context"), what);
    BOOST_TEST(contains(what, "ulimit -n"), what);
  }
  BOOST_TEST(contains(no_ring.second, "io_uring_setup"));
  BOOST_TEST(no_file.first == emfile);
  BOOST_TEST(contains(no_file.second, "open"));
  BOOST_TEST(!file.is_open());
  BOOST_TEST(connect_ec == asio::error::no_descriptors);
  BOOST_TEST(!client.is_open());

  // Descriptors again: the same objects work.
  file.open(tmp.path, file_base::read_only);
  std::string read_back;
  asio_uring::async_read_at(file, 0, std::string(12, '\0'),
                            [&](error_code ec, std::size_t, std::string s) {
                              BOOST_TEST(!ec);
                              read_back = s;
                            });
  std::optional<tcp::socket> server;
  acceptor.async_accept([&](error_code ec, tcp::socket s) {
    BOOST_TEST(!ec);
    server.emplace(std::move(s));
    asio_uring::async_write(*server, std::string("hello"),
                            [](error_code wec, std::size_t, std::string) { BOOST_TEST(!wec); });
  });
  std::string greeting;
  client.async_connect(acceptor.local_endpoint(), [&](error_code ec) {
    BOOST_TEST(!ec);
    asio_uring::async_read(client, std::string(5, '\0'),
                           [&](error_code rec, std::size_t, std::string s) {
                             BOOST_TEST(!rec);
                             greeting = s;
                           });
  });
  ctx.restart();
  test::run_bounded(ctx);
  BOOST_TEST(read_back == "file content");
  BOOST_TEST(greeting == "hello");
  io_context other; // and a new context again
  int ran = 0;
  asio::post(other, [&] { ++ran; });
  other.run();
  BOOST_TEST(ran == 1);
}
} // namespace

// socket_load_tests covers EMFILE on accept; this covers the other places the library creates
// descriptors. The real RLIMIT_NOFILE first; under UBSan (see ubsan_vptr_check_linked) only the
// seccomp-injected EMFILE, which leaves the sanitizer its own descriptors.
BOOST_AUTO_TEST_CASE(emfile_on_context_file_and_socket_creation_is_clear_and_the_objects_recover) {
  if (ubsan_vptr_check_linked())
    BOOST_TEST_MESSAGE("RLIMIT_NOFILE part skipped: UBSan's vptr check needs descriptors itself");
  else
    check_emfile(emfile_source::rlimit_nofile);
  check_emfile(emfile_source::seccomp);
}

// ---- 7. kernel.io_uring_disabled ---------------------------------------------------------------

namespace {
// A sysctl file: its value at construction, and whether this process may write it.
struct sysctl_file {
  std::string path, original;
  bool writable = false;
  explicit sysctl_file(std::string p) : path(std::move(p)) {
    std::ifstream in(path);
    if (in >> original)
      writable = write(original); // writing the value it has changes nothing
  }
  bool write(const std::string& v) const {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
      return false;
    bool ok = ::write(fd, v.data(), v.size()) == static_cast<ssize_t>(v.size());
    ::close(fd);
    return ok;
  }
  std::string read() const {
    std::ifstream in(path);
    std::string v;
    in >> v;
    return v;
  }
};

// Sets a sysctl for its lifetime; the original value comes back on every path out.
struct sysctl_override {
  const sysctl_file& file;
  bool ok;
  sysctl_override(const sysctl_file& f, const std::string& v) : file(f), ok(f.write(v)) {}
  ~sysctl_override() { file.write(file.original); }
  sysctl_override(const sysctl_override&) = delete;
  sysctl_override& operator=(const sysctl_override&) = delete;
};

// In a child without CAP_SYS_ADMIN (and outside kernel.io_uring_group): constructs a context and
// runs a handler. Exit 0 when that matches `expect_denied` (denied: EPERM).
test::child_outcome construct_without_sys_admin(bool expect_denied) {
  return test::run_in_child(
      [expect_denied](const child_log& log) {
        if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
            !drop_capabilities({CAP_SYS_ADMIN}))
          return 3;
        try {
          io_context ctx;
          int ran = 0;
          asio::post(ctx, [&] { ++ran; });
          ctx.run();
          log("constructed and ran");
          return expect_denied ? 10 : (ran == 1 ? 0 : 12);
        } catch (const boost::system::system_error& e) {
          log(e.what());
          return expect_denied && e.code().value() == EPERM ? 0 : 11;
        }
      },
      10s);
}
} // namespace

// io_context_tests fakes the sysctl's EPERM with seccomp; here the sysctl is really set. To 1,
// not 2: 1 denies only processes without CAP_SYS_ADMIN (the child), so other processes on the
// machine (parallel test suites, other users' builds) are never denied io_uring meanwhile. The
// original value is restored on every path (RAII), and the same child then succeeds.
BOOST_AUTO_TEST_CASE(io_uring_disabled_sysctl_gives_a_clear_error_and_restoring_it_recovers) {
  sysctl_file sysctl("/proc/sys/kernel/io_uring_disabled");
  if (!sysctl.writable || sysctl.original != "0") {
    BOOST_TEST_MESSAGE("skipped: " << sysctl.path << " is not writable here or not 0 ("
                                   << sysctl.original << ")");
    return;
  }
  test::child_outcome denied;
  bool admin_unaffected = false;
  {
    sysctl_override disabled(sysctl, "1");
    BOOST_TEST_REQUIRE(disabled.ok);
    BOOST_TEST_REQUIRE(sysctl.read() == "1");
    denied = construct_without_sys_admin(true);
    try {
      io_context ctx;
      admin_unaffected = true;
    } catch (const boost::system::system_error&) {
    }
  }
  BOOST_TEST(sysctl.read() == sysctl.original);
  auto allowed = construct_without_sys_admin(false);
  BOOST_TEST_MESSAGE("denied child: " << denied.log);
  BOOST_TEST(denied.exit_code == 0, "child exit " << denied.exit_code << ": " << denied.log);
  BOOST_TEST(contains(denied.log, "kernel.io_uring_disabled"));
  BOOST_TEST(contains(denied.log, "Remedy"));
  BOOST_TEST(admin_unaffected);
  BOOST_TEST(allowed.exit_code == 0, "child exit " << allowed.exit_code << ": " << allowed.log);
}

BOOST_AUTO_TEST_SUITE_END()
