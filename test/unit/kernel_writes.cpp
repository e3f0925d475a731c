// Kernel-side write detection: proof, not assumption, that a cancelled, orphaned or abandoned
// read never lands in memory the program got back. ASan cannot see the kernel's writes, so:
// every owned buffer here is a canary_buffer whose storage, when destroyed, is filled with a
// canary and kept (quarantined) instead of freed; pooled op blocks are canary-filled while free
// and checked when reused or released (lib/invariant_check.cpp, ASIO_URING_INVARIANT_CHECKS).
// After the cancellation or teardown, data is written to every peer and the canaries checked.
#include "fixtures.hpp"
#include "socket_fixtures.hpp"

#include <asio_uring.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <optional>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace asio = boost::asio;
using boost::system::error_code;
using namespace std::chrono_literals;

namespace {

constexpr std::byte canary{0xC5};

// Storage of destroyed canary_buffers: canary-filled, never freed during the test.
struct quarantine {
  std::vector<std::pair<std::unique_ptr<std::byte[]>, std::size_t>> blocks;
  long destroyed_in_use = 0;

  static quarantine& get() {
    static quarantine q;
    return q;
  }
  void retire(std::unique_ptr<std::byte[]> p, std::size_t n) {
    if (asio_uring::detail::kernel_may_access(p.get(), n))
      ++destroyed_in_use;
    std::memset(p.get(), static_cast<int>(canary), n);
    blocks.emplace_back(std::move(p), n);
  }
  // Quarantined bytes that are no longer the canary: something wrote after the destruction.
  std::size_t damaged() const {
    std::size_t bad = 0;
    for (const auto& [p, n] : blocks)
      for (std::size_t i = 0; i < n; ++i)
        bad += p[i] != canary;
    return bad;
  }
  void clear() {
    blocks.clear();
    destroyed_in_use = 0;
  }
};

class canary_buffer {
public:
  canary_buffer() = default;
  explicit canary_buffer(std::size_t n) : data_(new std::byte[n]), size_(n) {
    std::memset(data_.get(), 0, n);
  }
  canary_buffer(canary_buffer&&) noexcept = default;
  canary_buffer& operator=(canary_buffer&& o) noexcept {
    retire();
    data_ = std::move(o.data_);
    size_ = std::exchange(o.size_, 0);
    return *this;
  }
  ~canary_buffer() { retire(); }
  std::byte* data() noexcept { return data_.get(); }
  const std::byte* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return !data_; }

private:
  void retire() {
    if (data_)
      quarantine::get().retire(std::move(data_), size_);
    size_ = 0;
  }
  std::unique_ptr<std::byte[]> data_;
  std::size_t size_ = 0;
};

struct quarantine_fixture {
  std::size_t violations_before = asio_uring::detail::invariant_violations();
  std::size_t blocks_before = asio_uring::detail::canary_damaged_blocks();
  quarantine_fixture() {
    BOOST_TEST_REQUIRE(asio_uring::detail::invariant_checks_enabled(),
                       "build with ASIO_URING_INVARIANT_CHECKS=ON");
    quarantine::get().clear();
  }
  ~quarantine_fixture() { quarantine::get().clear(); }
  void check_canaries(const char* when) {
    BOOST_TEST_MESSAGE(when << ": " << quarantine::get().blocks.size()
                            << " buffers quarantined, damaged bytes " << quarantine::get().damaged()
                            << ", damaged pooled blocks "
                            << asio_uring::detail::canary_damaged_blocks() - blocks_before);
    BOOST_TEST(quarantine::get().damaged() == 0u, when);
    BOOST_TEST(quarantine::get().destroyed_in_use == 0, when);
    BOOST_TEST(asio_uring::detail::canary_damaged_blocks() == blocks_before, when);
    BOOST_TEST(asio_uring::detail::invariant_violations() == violations_before, when);
  }
};

// Sockets and pipes whose far ends are plain fds the test writes to after the reads ended.
struct peers {
  std::vector<asio_uring::ip::tcp::socket> tcp_near;
  std::vector<asio_uring::ip::tcp::socket> tcp_far;
  std::vector<asio_uring::ip::udp::socket> udp_near;
  std::vector<asio_uring::ip::udp::socket> udp_far;
  std::vector<asio_uring::posix::stream_descriptor> pipes;
  std::vector<int> pipe_writers;

  peers(asio_uring::io_context& ctx, int n) {
    using asio_uring::ip::udp;
    for (int i = 0; i < n; ++i) {
      auto [a, b] = asio_uring::test::connected_pair(ctx);
      tcp_near.push_back(std::move(a));
      tcp_far.push_back(std::move(b));
      udp::socket x(ctx, udp::endpoint(asio::ip::address_v4::loopback(), 0));
      udp::socket y(ctx, udp::endpoint(asio::ip::address_v4::loopback(), 0));
      y.connect(x.local_endpoint());
      udp_near.push_back(std::move(x));
      udp_far.push_back(std::move(y));
      int fds[2];
      BOOST_TEST_REQUIRE(::pipe(fds) == 0);
      pipes.emplace_back(ctx, fds[0]);
      pipe_writers.push_back(fds[1]);
    }
  }
  ~peers() {
    for (int fd : pipe_writers)
      ::close(fd);
  }
  // Writes to every peer with plain syscalls (the context may be gone).
  void write_everywhere() {
    const char data[] = "data the cancelled reads must never see";
    for (auto& s : tcp_far)
      (void)::send(s.native_handle(), data, sizeof data, MSG_NOSIGNAL);
    for (auto& s : udp_far)
      (void)::send(s.native_handle(), data, sizeof data, 0);
    for (int fd : pipe_writers)
      (void)::write(fd, data, sizeof data);
  }
};

asio::cancellation_type type_of(int i) {
  static constexpr asio::cancellation_type t[] = {asio::cancellation_type::terminal,
                                                  asio::cancellation_type::partial,
                                                  asio::cancellation_type::total};
  return t[i % 3];
}

} // namespace

template <>
struct asio_uring::buffer_traits<canary_buffer> {
  static std::byte* data(canary_buffer& b) noexcept { return b.data(); }
  static std::size_t size(const canary_buffer& b) noexcept { return b.size(); }
};

BOOST_AUTO_TEST_SUITE(kernel_writes_tests)

// Reads on TCP, UDP (recvmsg, the sender's address written into the block) and pipes are
// cancelled every way; their buffers come back and are destroyed (quarantined), their blocks
// go back to the pool (canary-filled) and are reused by the next round. Then every peer
// writes: fresh reads get the data, byte for byte, and no canary changed.
BOOST_FIXTURE_TEST_CASE(cancelled_reads_never_write_into_freed_buffers_or_blocks,
                        quarantine_fixture) {
  constexpr int n = 64;
  asio_uring::io_context ctx;
  peers p(ctx, n);
  std::vector<asio::cancellation_signal> sigs(static_cast<std::size_t>(n) * 3);
  std::array<std::byte, 64> borrowed_udp{};
  std::vector<asio_uring::ip::udp::endpoint> senders(static_cast<std::size_t>(n));
  int completed = 0, aborted = 0;
  auto count = [&](const error_code& ec) {
    ++completed;
    aborted += ec == asio::error::operation_aborted;
  };
  for (int round = 0; round < 4; ++round) {
    completed = aborted = 0;
    for (int i = 0; i < n; ++i) {
      auto& s0 = sigs[static_cast<std::size_t>(3 * i)];
      auto& s1 = sigs[static_cast<std::size_t>(3 * i + 1)];
      auto& s2 = sigs[static_cast<std::size_t>(3 * i + 2)];
      p.tcp_near[static_cast<std::size_t>(i)].async_read_some(
          canary_buffer(4096),
          asio::bind_cancellation_slot(
              s0.slot(), [&](error_code ec, std::size_t, canary_buffer) { count(ec); }));
      auto& u = p.udp_near[static_cast<std::size_t>(i)];
      if (i % 2)
        u.async_receive_from(
            canary_buffer(4096), senders[static_cast<std::size_t>(i)],
            asio::bind_cancellation_slot(
                s1.slot(), [&](error_code ec, std::size_t, canary_buffer) { count(ec); }));
      else if (i == 0) // one borrowed receive_from: the test's own array, reused after
        u.async_receive_from(asio::buffer(borrowed_udp), senders[0],
                             asio::bind_cancellation_slot(
                                 s1.slot(), [&](error_code ec, std::size_t) { count(ec); }));
      else
        u.async_receive(canary_buffer(4096),
                        asio::bind_cancellation_slot(s1.slot(), [&](error_code ec, std::size_t,
                                                                    canary_buffer) { count(ec); }));
      p.pipes[static_cast<std::size_t>(i)].async_read_some(
          canary_buffer(4096),
          asio::bind_cancellation_slot(
              s2.slot(), [&](error_code ec, std::size_t, canary_buffer) { count(ec); }));
    }
    ctx.restart();
    ctx.poll(); // submitted: the reads wait in the kernel
    for (int i = 0; i < n; ++i) {
      switch ((i + round) % 4) {
      case 0: // a slot, each type in turn
        for (int k = 0; k < 3; ++k)
          sigs[static_cast<std::size_t>(3 * i + k)].emit(type_of(i + k));
        break;
      case 1: // cancel() on each object
        p.tcp_near[static_cast<std::size_t>(i)].cancel();
        p.udp_near[static_cast<std::size_t>(i)].cancel();
        p.pipes[static_cast<std::size_t>(i)].cancel();
        break;
      default: // before submission of the cancel, the reads race a slot emitted from a handler
        asio::post(ctx, [&, i] {
          for (int k = 0; k < 3; ++k)
            sigs[static_cast<std::size_t>(3 * i + k)].emit(asio::cancellation_type::terminal);
        });
        break;
      }
    }
    asio_uring::test::run_bounded(ctx);
    BOOST_TEST(completed == 3 * n);
    BOOST_TEST(aborted == 3 * n); // nothing was sent yet: every read was cancelled
    std::memset(borrowed_udp.data(), static_cast<int>(canary), borrowed_udp.size());
  }
  // Now the data comes. A read that was still armed somewhere would take it (and write it
  // into quarantined memory); instead fresh reads get every byte.
  p.write_everywhere();
  std::this_thread::sleep_for(20ms);
  std::string expected = "data the cancelled reads must never see";
  expected.push_back('\0');
  int fresh = 0;
  auto got = [&](error_code ec, std::size_t m, const canary_buffer& b) {
    BOOST_TEST(!ec);
    BOOST_TEST(std::string(reinterpret_cast<const char*>(b.data()), m) == expected);
    ++fresh;
  };
  for (int i = 0; i < n; ++i) {
    p.tcp_near[static_cast<std::size_t>(i)].async_read_some(
        canary_buffer(4096), [&](error_code ec, std::size_t m, canary_buffer b) { got(ec, m, b); });
    p.udp_near[static_cast<std::size_t>(i)].async_receive(
        canary_buffer(4096), [&](error_code ec, std::size_t m, canary_buffer b) { got(ec, m, b); });
    p.pipes[static_cast<std::size_t>(i)].async_read_some(
        canary_buffer(4096), [&](error_code ec, std::size_t m, canary_buffer b) { got(ec, m, b); });
  }
  ctx.restart();
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(fresh == 3 * n);
  BOOST_TEST(std::count(borrowed_udp.begin(), borrowed_udp.end(), canary) ==
             static_cast<long>(borrowed_udp.size()));
  check_canaries("after cancellation and fresh data");
}

// The context is shut down and destroyed with reads in flight whose objects only their
// handlers keep alive (owned canary buffers, and borrowed memory the test reuses once the
// destructor returned); the sockets stay open through dups. Then every peer writes: no
// canary changes, no handler ran, nothing was abandoned.
BOOST_FIXTURE_TEST_CASE(reads_abandoned_by_teardown_never_write_into_freed_memory,
                        quarantine_fixture) {
  constexpr int n = 128;
  auto borrowed = std::make_unique<std::array<std::byte, 256>[]>(n);
  std::size_t abandoned = 1;
  std::vector<int> fds; // dups of both ends: every socket and pipe outlives the context
  int handlers_run = 0;
  {
    asio_uring::io_context ctx;
    peers p(ctx, n);
    for (int i = 0; i < n; ++i) {
      std::size_t k = static_cast<std::size_t>(i);
      auto tcp = std::make_shared<asio_uring::ip::tcp::socket>(std::move(p.tcp_near[k]));
      auto udp = std::make_shared<asio_uring::ip::udp::socket>(std::move(p.udp_near[k]));
      auto pipe = std::make_shared<asio_uring::posix::stream_descriptor>(std::move(p.pipes[k]));
      auto sender = std::make_shared<asio_uring::ip::udp::endpoint>();
      for (int fd : {tcp->native_handle(), udp->native_handle(), pipe->native_handle(),
                     p.tcp_far[k].native_handle(), p.udp_far[k].native_handle()})
        fds.push_back(::dup(fd));
      fds.push_back(std::exchange(p.pipe_writers[k], ::dup(p.pipe_writers[k])));
      tcp->async_read_some(canary_buffer(4096),
                           [&, tcp](error_code, std::size_t, canary_buffer) { ++handlers_run; });
      udp->async_receive_from(
          canary_buffer(4096), *sender,
          [&, udp, sender](error_code, std::size_t, canary_buffer) { ++handlers_run; });
      pipe->async_read_some(asio::buffer(borrowed[k]),
                            [&, pipe](error_code, std::size_t) { ++handlers_run; });
    }
    ctx.poll(); // in the kernel now
    ctx.shutdown();
    abandoned = ctx.abandoned_operations();
  }
  // A borrowed region becomes the program's again once the context is gone.
  for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i)
    std::memset(borrowed[i].data(), static_cast<int>(canary), borrowed[i].size());
  const char data[] = "late data";
  for (int fd : fds) {
    (void)::send(fd, data, sizeof data, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)::write(fd, data, sizeof data);
  }
  std::this_thread::sleep_for(50ms);
  long intact = 0;
  for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i)
    intact += std::count(borrowed[i].begin(), borrowed[i].end(), canary);
  BOOST_TEST(intact == static_cast<long>(n * borrowed[0].size()), "borrowed memory written");
  BOOST_TEST(handlers_run == 0, "handlers are destroyed at shutdown, never run");
  BOOST_TEST(abandoned == 0u);
  check_canaries("after teardown and late data");
  for (int fd : fds)
    ::close(fd);
}

// Terminal cancellation of a file read the kernel cannot interrupt (io-wq copying) completes
// the handler at once and leaves the buffer in the block; the buffer is destroyed only at the
// final CQE. Had it been destroyed at the cancel, the copy still running would have written
// into its quarantined storage.
BOOST_FIXTURE_TEST_CASE(orphaned_file_read_buffer_dies_after_the_kernel_finished,
                        quarantine_fixture) {
  constexpr std::size_t size = 64u << 20;
  char path[] = "/tmp/asio_uring_kw_XXXXXX";
  int fd = ::mkstemp(path);
  BOOST_TEST_REQUIRE(fd >= 0);
  ::unlink(path);
  BOOST_TEST_REQUIRE(::ftruncate(fd, static_cast<off_t>(size)) == 0);
  int orphaned = 0;
  std::size_t damaged = 0, quarantined = 0;
  auto delay = 3ms;
  for (int attempt = 0; attempt < 40 && orphaned < 2; ++attempt) {
    bool was_orphaned = false, back = false;
    {
      asio_uring::io_context ctx;
      asio_uring::random_access_file f(ctx, ::dup(fd));
      f.set_force_async(true);
      asio::cancellation_signal sig;
      f.async_read_some_at(0, canary_buffer(size),
                           asio::bind_cancellation_slot(
                               sig.slot(), [&](error_code ec, std::size_t, canary_buffer b) {
                                 was_orphaned = ec == asio::error::operation_aborted && b.empty();
                                 back = !b.empty();
                               }));
      asio_uring::steady_timer t(ctx, delay);
      t.async_wait([&](error_code) { sig.emit(asio::cancellation_type::terminal); });
      asio_uring::test::run_bounded(ctx, 30s);
    } // the final CQE came at the latest in the destructor's drain: the buffer is quarantined
    if (was_orphaned) {
      ++orphaned;
      quarantined += quarantine::get().blocks.size();
      // A copy still running after the buffer's destruction would have overwritten the canary.
      std::this_thread::sleep_for(20ms);
      damaged += quarantine::get().damaged();
    } else if (back) { // the worker had not started, or had finished: move the moment
      delay = delay < 100ms ? delay * 2 : 1ms;
    }
    quarantine::get().clear(); // 64 MiB each
  }
  ::close(fd);
  BOOST_TEST_MESSAGE("orphaned " << orphaned << " reads, damaged bytes " << damaged);
  BOOST_TEST(orphaned >= 1);
  BOOST_TEST(quarantined == static_cast<std::size_t>(orphaned)); // each orphaned buffer died
  BOOST_TEST(damaged == 0u);
  check_canaries("after orphaned file reads");
}

BOOST_AUTO_TEST_SUITE_END()
