// Destroying or shutting down an io_context with work in flight: CQEs are drained before any
// handler (or coroutine frame holding a borrowed buffer) is destroyed; nothing is invoked.
#include "fixtures.hpp"

#include <asio_uring.hpp>

#include "socket_fixtures.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <csignal>
#include <string>
#include <sys/resource.h>
#include <sys/socket.h>
#include <chrono>
#include <memory>
#include <vector>

namespace asio = boost::asio;
using asio_uring::io_context;
using asio_uring::posix::stream_descriptor;
using asio_uring::test::tracked_buffer;
using boost::system::error_code;
using namespace std::chrono_literals;

namespace {
// Counts handler destructions and fails on invocation.
struct never_invoked {
  std::shared_ptr<int> destroyed;
  bool* invoked;
  void operator()(error_code, std::size_t, tracked_buffer) const { *invoked = true; }
  void operator()(error_code, std::size_t) const { *invoked = true; }
};
} // namespace

BOOST_FIXTURE_TEST_SUITE(shutdown_tests, asio_uring::test::tracked_fixture)

BOOST_AUTO_TEST_CASE(destroy_with_1000_owned_and_1000_borrowed_reads_and_coroutines_in_flight) {
  constexpr int n = 1000;
  std::vector<asio_uring::test::pipe_pair> pipes(n);
  auto destroyed_marker = std::make_shared<int>(0);
  bool invoked = false;
  std::vector<std::array<char, 64>> borrowed(n); // outlives the context, as Asio requires
  auto frames_alive = std::make_shared<int>(0);
  auto start = std::chrono::steady_clock::now();
  std::size_t abandoned = 0;
  {
    io_context ctx;
    std::vector<stream_descriptor> ds;
    ds.reserve(n);
    for (auto& p : pipes)
      ds.emplace_back(ctx, ::dup(p.read_end));
    for (int i = 0; i < n; ++i) {
      ds[i].async_read_some(tracked_buffer(64), never_invoked{destroyed_marker, &invoked});
      ds[i].async_read_some(asio::buffer(borrowed[i]), never_invoked{destroyed_marker, &invoked});
    }
    // Coroutines with borrowed buffers on their frames (the Asio 1.81 shutdown bug).
    for (int i = 0; i < 100; ++i)
      asio::co_spawn(
          ctx,
          [&, i, alive = frames_alive]() -> asio::awaitable<void> {
            std::array<char, 256> on_frame;
            co_await ds[i].async_read_some(asio::buffer(on_frame), asio::use_awaitable);
            invoked = true;
          },
          asio::detached);
    BOOST_TEST(ctx.poll() == 100u); // the coroutines started; everything is in the kernel now
    BOOST_TEST(destroyed_marker.use_count() == 1 + 2 * n);
    BOOST_TEST(frames_alive.use_count() == 101);
    ctx.shutdown(); // what the destructor does, with the counter readable after it
    abandoned = ctx.abandoned_operations();
  }
  // The context's destructor cancelled, drained and destroyed every handler and frame.
  BOOST_TEST(!invoked);
  BOOST_TEST(destroyed_marker.use_count() == 1);
  BOOST_TEST(frames_alive.use_count() == 1);
  BOOST_TEST(abandoned == 0u);
  BOOST_TEST((std::chrono::steady_clock::now() - start < 10s));
}

BOOST_AUTO_TEST_CASE(destroy_with_descriptors_still_open_drains_everything) {
  // Objects outliving their context are not allowed in Asio; but ops whose fd stays open must
  // still be cancelled by the context: a pipe end held elsewhere keeps the fd alive.
  constexpr int n = 500;
  std::vector<asio_uring::test::pipe_pair> pipes(n);
  auto marker = std::make_shared<int>(0);
  bool invoked = false;
  auto start = std::chrono::steady_clock::now();
  {
    io_context ctx;
    for (auto& p : pipes) {
      auto d = std::make_shared<stream_descriptor>(ctx, ::dup(p.read_end));
      d->async_read_some(
          tracked_buffer(32),
          [d, marker, &invoked](error_code, std::size_t, tracked_buffer) { invoked = true; });
    }
    asio::post(ctx, [] {}); // something queued, never run
    BOOST_TEST(ctx.poll_one() == 1u);
    BOOST_TEST(ctx.poll() == 0u);
    BOOST_TEST(marker.use_count() == 1 + n);
  }
  BOOST_TEST(!invoked);
  BOOST_TEST(marker.use_count() == 1);
  BOOST_TEST((std::chrono::steady_clock::now() - start < 10s));
}

BOOST_AUTO_TEST_CASE(posted_work_is_destroyed_not_run_including_what_destruction_posts) {
  auto marker = std::make_shared<int>(0);
  bool ran = false;
  {
    io_context ctx;
    for (int i = 0; i < 100; ++i)
      asio::post(ctx, [marker, &ran] { ran = true; });
    // A coroutine suspended on a timer: destroying its handler posts the frame's destruction.
    asio::co_spawn(
        ctx,
        [marker, &ran]() -> asio::awaitable<void> {
          asio_uring::steady_timer t(co_await asio::this_coro::executor, 1h);
          co_await t.async_wait(asio::use_awaitable);
          ran = true;
        },
        asio::detached);
    BOOST_TEST(marker.use_count() == 102);
  }
  BOOST_TEST(!ran);
  BOOST_TEST(marker.use_count() == 1);
}

BOOST_AUTO_TEST_CASE(destroy_after_a_worker_thread_ran_it) {
  // The worker owns the ring (SINGLE_ISSUER). When it exits, the kernel cancels what it
  // submitted; the destroying thread drains those CQEs from the shared CQ.
  asio_uring::test::pipe_pair p;
  auto marker = std::make_shared<int>(0);
  bool invoked = false;
  std::size_t abandoned = 1;
  {
    io_context ctx;
    stream_descriptor d(ctx, ::dup(p.read_end));
    d.async_read_some(tracked_buffer(16), [marker, &invoked](error_code, std::size_t,
                                                             tracked_buffer) { invoked = true; });
    std::thread worker([&] { ctx.poll(); });
    worker.join();
    d.release(); // keep the fd out of the destructor's close path; the context cancels
    ctx.shutdown();
    abandoned = ctx.abandoned_operations();
  }
  BOOST_TEST(!invoked);
  BOOST_TEST(marker.use_count() == 1);
  BOOST_TEST(abandoned == 0u);
}

namespace {

// Raises the soft fd limit to the hard one for the test (thousands of sockets).
struct fd_limit_raised {
  rlimit before{};
  fd_limit_raised() {
    ::getrlimit(RLIMIT_NOFILE, &before);
    rlimit raised = before;
    raised.rlim_cur = before.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &raised);
  }
  ~fd_limit_raised() { ::setrlimit(RLIMIT_NOFILE, &before); }
};

// Counts what happened to each kind's handlers: run (a failure here), destroyed.
struct kind_marker {
  const char* name;
  std::shared_ptr<int> alive = std::make_shared<int>(0);
  int started = 0;
};

template <class... Args>
struct marked {
  std::shared_ptr<int> alive;
  bool* invoked;
  void operator()(Args...) const { *invoked = true; }
};

} // namespace

// Thousands of operations of every kind in flight when the context is shut down: owned and
// borrowed reads on pipes, TCP, UDP (recvmsg), Unix stream and datagram sockets, reads gated
// behind them, coroutines holding borrowed buffers on their frames, multishot accepts and
// buffer-ring receives, timer waits, a signal wait, io-wq file reads the kernel cannot
// interrupt (EALREADY), and zero-copy sends whose peers do not read, so their notification
// may never come: those are the operations shutdown may abandon after drain_timeout, and the
// counter says how many. Every other handler is destroyed, none runs, nothing leaks.
BOOST_AUTO_TEST_CASE(destroy_with_thousands_of_ops_of_every_kind_in_flight) {
  fd_limit_raised limit;
  using asio_uring::ip::tcp;
  using asio_uring::ip::udp;
  namespace local = asio_uring::local;
  bool invoked = false;
  std::vector<kind_marker> kinds;
  auto kind = [&](const char* name) -> kind_marker& {
    kinds.push_back({name});
    return kinds.back();
  };
  kinds.reserve(16);
  auto frames_alive = std::make_shared<int>(0);
  std::vector<std::array<char, 128>> borrowed(4000);
  std::size_t next_borrowed = 0;
  auto region = [&] { return asio::buffer(borrowed.at(next_borrowed++)); };
  std::vector<int> keep_fds; // far ends held open: nothing completes by itself
  std::size_t abandoned = 0, zc_started = 0, ops = 0;
  auto start = std::chrono::steady_clock::now();
  double shutdown_ms = 0;
  {
    asio_uring::io_context::options o;
    o.drain_timeout = 500ms;
    io_context ctx(o);
    using owned_h = marked<error_code, std::size_t, tracked_buffer>;
    using borrowed_h = marked<error_code, std::size_t>;
    // Pipes.
    auto& pipe_owned = kind("pipe owned read");
    auto& pipe_borrowed = kind("pipe borrowed read");
    std::vector<asio_uring::test::pipe_pair> pipes(500);
    std::vector<std::shared_ptr<stream_descriptor>> descs;
    for (auto& p : pipes) {
      auto d = std::make_shared<stream_descriptor>(ctx, ::dup(p.read_end));
      d->async_read_some(tracked_buffer(64), owned_h{pipe_owned.alive, &invoked});
      d->async_read_some(region(), borrowed_h{pipe_borrowed.alive, &invoked});
      pipe_owned.started++;
      pipe_borrowed.started++;
      descs.push_back(d);
    }
    // TCP: an owned read on one end, a borrowed read on the other, a coroutine queued behind
    // the owned read (gated), on 300 connections.
    auto& tcp_owned = kind("tcp owned read");
    auto& tcp_borrowed = kind("tcp borrowed read");
    auto& coroutines = kind("coroutine, buffer on its frame (gated)");
    std::vector<std::shared_ptr<tcp::socket>> tcps;
    for (int i = 0; i < 300; ++i) {
      auto [a, b] = asio_uring::test::connected_pair(ctx);
      auto pa = std::make_shared<tcp::socket>(std::move(a));
      auto pb = std::make_shared<tcp::socket>(std::move(b));
      pa->async_read_some(tracked_buffer(256), owned_h{tcp_owned.alive, &invoked});
      pb->async_read_some(region(), borrowed_h{tcp_borrowed.alive, &invoked});
      tcp_owned.started++;
      tcp_borrowed.started++;
      if (i < 200) {
        asio::co_spawn(
            ctx,
            [pa, &invoked, alive = coroutines.alive,
             frame = frames_alive]() -> asio::awaitable<void> {
              std::array<char, 512> on_frame;
              co_await pa->async_read_some(asio::buffer(on_frame), asio::use_awaitable);
              invoked = true;
            },
            asio::detached);
        coroutines.started++;
      }
      tcps.push_back(pa);
      tcps.push_back(pb);
    }
    // UDP and Unix datagrams: receive_from (recvmsg, the address written into the block).
    auto& udp_recv = kind("udp receive_from");
    auto& unix_dgram = kind("unix datagram receive");
    auto& unix_stream = kind("unix stream read");
    std::vector<std::shared_ptr<void>> objects;
    std::vector<udp::endpoint> senders(200);
    for (int i = 0; i < 200; ++i) {
      auto u =
          std::make_shared<udp::socket>(ctx, udp::endpoint(asio::ip::address_v4::loopback(), 0));
      u->async_receive_from(tracked_buffer(512), senders[static_cast<std::size_t>(i)],
                            owned_h{udp_recv.alive, &invoked});
      udp_recv.started++;
      objects.push_back(u);
    }
    for (int i = 0; i < 100; ++i) {
      auto x = std::make_shared<local::datagram_protocol::socket>(ctx);
      auto y = std::make_shared<local::datagram_protocol::socket>(ctx);
      local::connect_pair(*x, *y);
      x->async_receive(tracked_buffer(128), owned_h{unix_dgram.alive, &invoked});
      y->async_receive(region(), borrowed_h{unix_dgram.alive, &invoked});
      unix_dgram.started += 2;
      auto s = std::make_shared<local::stream_protocol::socket>(ctx);
      auto t = std::make_shared<local::stream_protocol::socket>(ctx);
      local::connect_pair(*s, *t);
      s->async_read_some(tracked_buffer(128), owned_h{unix_stream.alive, &invoked});
      t->async_read_some(region(), borrowed_h{unix_stream.alive, &invoked});
      unix_stream.started += 2;
      objects.insert(objects.end(), {x, y, s, t});
    }
    // Multishot: buffer-ring receives on 100 connections, accepts on 5 acceptors.
    auto& ring_recv = kind("buffer-ring receive (multishot)");
    auto& accepts = kind("accept (multishot)");
    asio_uring::buffer_ring ring(ctx, 64, 1024);
    for (int i = 0; i < 100; ++i) {
      auto [a, b] = asio_uring::test::connected_pair(ctx);
      auto pa = std::make_shared<tcp::socket>(std::move(a));
      pa->async_receive(ring,
                        marked<error_code, asio_uring::ring_buffer>{ring_recv.alive, &invoked});
      ring_recv.started++;
      keep_fds.push_back(b.release());
      objects.push_back(pa);
    }
    for (int i = 0; i < 5; ++i) {
      auto acc =
          std::make_shared<tcp::acceptor>(ctx, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
      acc->async_accept(marked<error_code, tcp::socket>{accepts.alive, &invoked});
      accepts.started++;
      objects.push_back(acc);
    }
    // Timers and a signal.
    auto& timers = kind("timer wait");
    for (int i = 0; i < 300; ++i) {
      auto t = std::make_shared<asio_uring::steady_timer>(ctx, 1h);
      t->async_wait(marked<error_code>{timers.alive, &invoked});
      timers.started++;
      objects.push_back(t);
    }
    auto& signals = kind("signal wait");
    auto sigs = std::make_shared<asio_uring::signal_set>(ctx, SIGUSR2);
    sigs->async_wait(marked<error_code, int>{signals.alive, &invoked});
    signals.started++;
    objects.push_back(sigs);
    // io-wq file reads: a worker copying cannot be interrupted (EALREADY); the drain waits.
    auto& file_reads = kind("io-wq file read");
    char path[] = "/tmp/asio_uring_teardown_XXXXXX";
    int file_fd = ::mkstemp(path);
    BOOST_TEST_REQUIRE(file_fd >= 0);
    ::unlink(path);
    BOOST_TEST_REQUIRE(::ftruncate(file_fd, 16 << 20) == 0);
    for (int i = 0; i < 4; ++i) {
      auto f = std::make_shared<asio_uring::random_access_file>(ctx, ::dup(file_fd));
      f->set_force_async(true);
      f->async_read_some_at(0, tracked_buffer(16 << 20), owned_h{file_reads.alive, &invoked});
      file_reads.started++;
      objects.push_back(f);
    }
    ::close(file_fd);
    // Zero-copy sends to peers whose receive window is full: the send (or its notification)
    // waits for a reader that never comes.
    auto& zc = kind("SEND_ZC awaiting completion or notification");
    for (int i = 0; i < 20; ++i) {
      auto [a, b] = asio_uring::test::connected_pair(ctx);
      int one_mib = 1 << 20;
      ::setsockopt(b.native_handle(), SOL_SOCKET, SO_SNDBUF, &one_mib, sizeof one_mib);
      std::vector<char> fill(1 << 16, 'x');
      b.non_blocking(true);
      error_code ec;
      while (!ec)
        b.write_some(asio::buffer(fill), ec); // until the peer's window and our buffer fill
      auto pb = std::make_shared<tcp::socket>(std::move(b));
      pb->async_send_zc(tracked_buffer(1 << 16), owned_h{zc.alive, &invoked});
      zc.started++;
      keep_fds.push_back(a.release());
      objects.push_back(pb);
    }
    zc_started = static_cast<std::size_t>(zc.started);
    for (const kind_marker& k : kinds)
      ops += static_cast<std::size_t>(k.started);
    ctx.poll(); // the coroutines start; everything is in the kernel, parked or in the heap
    BOOST_TEST(!invoked);
    for (const kind_marker& k : kinds)
      BOOST_TEST(k.alive.use_count() == 1 + k.started, k.name);
    BOOST_TEST(frames_alive.use_count() == 1 + coroutines.started);
    // The objects live only in the handlers from here on.
    descs.clear();
    tcps.clear();
    objects.clear();
    auto t0 = std::chrono::steady_clock::now();
    ctx.shutdown();
    shutdown_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    abandoned = ctx.abandoned_operations();
  }
  for (int fd : keep_fds)
    ::close(fd);
  BOOST_TEST_MESSAGE("teardown: " << ops << " ops of " << kinds.size() << " kinds in flight, "
                                  << "shutdown took " << shutdown_ms << " ms, abandoned "
                                  << abandoned << " (of " << zc_started << " zero-copy sends)");
  BOOST_TEST(ops >= 2000u);
  BOOST_TEST(!invoked, "no handler runs at shutdown");
  std::size_t leaked_handlers = 0;
  for (const kind_marker& k : kinds) {
    std::size_t left = static_cast<std::size_t>(k.alive.use_count() - 1);
    leaked_handlers += left;
    if (std::string(k.name).find("SEND_ZC") == std::string::npos)
      BOOST_TEST(left == 0u, k.name << ": " << left << " handlers not destroyed");
  }
  BOOST_TEST(frames_alive.use_count() == 1); // every coroutine frame destroyed
  // Only zero-copy sends may be abandoned (their notification never came); each keeps its
  // handler and its buffer, leaked on purpose and counted.
  BOOST_TEST(abandoned <= zc_started);
  BOOST_TEST(leaked_handlers == abandoned);
  BOOST_TEST(asio_uring::test::stats().live == static_cast<long>(abandoned));
  BOOST_TEST((std::chrono::steady_clock::now() - start < 20s));
  asio_uring::test::stats().reset(); // the abandoned buffers are leaked on purpose
}

BOOST_AUTO_TEST_SUITE_END()
