// The cancellation bridge against DESIGN.md's table: every type x {before submit, in flight,
// after completion}, owned and borrowed; real results win races; terminal + EALREADY orphans.
#include "fixtures.hpp"

#include <asio_uring.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <chrono>
#include <fcntl.h>
#include <string>
#include <unistd.h>

namespace asio = boost::asio;
using asio_uring::io_context;
using asio_uring::posix::stream_descriptor;
using asio_uring::test::tracked_buffer;
using boost::system::error_code;
using ct = asio::cancellation_type;
using namespace std::chrono_literals;

namespace {

enum class phase { before_submit, before_run, in_flight, after_completion, racing_completion };

const char* name(phase p) {
  switch (p) {
  case phase::before_submit:
    return "before_submit";
  case phase::before_run:
    return "before_run";
  case phase::in_flight:
    return "in_flight";
  case phase::after_completion:
    return "after_completion";
  case phase::racing_completion:
    return "racing_completion";
  }
  return "?";
}

struct outcome {
  int calls = 0;
  error_code ec;
  std::size_t n = 0;
  std::size_t buffer_size = 0;
  std::uint64_t buffer_id = 0;
  std::string data;
};

// Starts one pipe read (owned or borrowed) and emits `type` at `when`.
outcome run_case(bool owned, ct type, phase when) {
  io_context ctx;
  asio_uring::test::pipe_pair p;
  stream_descriptor in(ctx, p.take_read());
  asio::cancellation_signal sig;
  outcome out;
  char borrowed[16] = {};
  std::uint64_t id = 0;

  auto start = [&] {
    if (owned) {
      tracked_buffer b(16);
      id = b.id();
      in.async_read_some(std::move(b),
                         asio::bind_cancellation_slot(
                             sig.slot(), [&](error_code ec, std::size_t n, tracked_buffer back) {
                               ++out.calls;
                               out.ec = ec;
                               out.n = n;
                               out.buffer_size = back.size();
                               out.buffer_id = back.id();
                               out.data.assign(reinterpret_cast<char*>(back.data()), n);
                             }));
    } else {
      in.async_read_some(asio::buffer(borrowed), asio::bind_cancellation_slot(
                                                     sig.slot(), [&](error_code ec, std::size_t n) {
                                                       ++out.calls;
                                                       out.ec = ec;
                                                       out.n = n;
                                                       out.data.assign(borrowed, n);
                                                     }));
    }
  };

  switch (when) {
  case phase::before_submit: // SQE prepared on the running thread, not yet entered
    asio::post(ctx, [&] {
      start();
      sig.emit(type);
    });
    break;
  case phase::before_run: // queued from a thread not running the context
    start();
    sig.emit(type);
    break;
  case phase::in_flight:
    start();
    BOOST_TEST(ctx.poll() == 0u); // submitted, waiting for data
    sig.emit(type);
    break;
  case phase::racing_completion: // data is there: the kernel completes it during submission
    BOOST_TEST_REQUIRE(::write(p.write_end, "data", 4) == 4);
    asio::post(ctx, [&] {
      start();
      sig.emit(type);
    });
    break;
  case phase::after_completion:
    BOOST_TEST_REQUIRE(::write(p.write_end, "data", 4) == 4);
    start();
    asio_uring::test::run_bounded(ctx);
    ctx.restart();
    sig.emit(type); // the slot was cleared: nothing happens
    break;
  }
  asio_uring::test::run_bounded(ctx);
  if (owned)
    BOOST_TEST(out.buffer_id == id); // nothing lost: the very same buffer came back
  return out;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(cancellation_tests, asio_uring::test::tracked_fixture)

BOOST_AUTO_TEST_CASE(table_every_type_every_phase_owned_and_borrowed) {
  for (bool owned : {true, false})
    for (ct type : {ct::terminal, ct::partial, ct::total})
      for (phase when : {phase::before_submit, phase::before_run, phase::in_flight,
                         phase::after_completion, phase::racing_completion}) {
        BOOST_TEST_CONTEXT((owned ? "owned" : "borrowed")
                           << " type=" << static_cast<int>(type) << " phase=" << name(when)) {
          outcome o = run_case(owned, type, when);
          BOOST_TEST(o.calls == 1);
          if (when == phase::after_completion || when == phase::racing_completion) {
            // The real result wins: the data was read before the cancel could take effect.
            BOOST_TEST(!o.ec);
            BOOST_TEST(o.n == 4u);
            BOOST_TEST(o.data == "data");
          } else {
            BOOST_TEST(o.ec == asio::error::operation_aborted);
            BOOST_TEST(o.n == 0u);
          }
          if (owned)
            BOOST_TEST(o.buffer_size == 16u); // the buffer comes back intact
        }
      }
}

namespace {

struct big_sparse_file {
  static constexpr std::size_t size = 512u << 20;
  int fd;
  big_sparse_file() {
    char path[] = "/tmp/asio_uring_sparse_XXXXXX";
    fd = ::mkstemp(path);
    BOOST_TEST_REQUIRE(fd >= 0);
    ::unlink(path);
    BOOST_TEST_REQUIRE(::ftruncate(fd, size) == 0);
  }
  ~big_sparse_file() { ::close(fd); }
};

struct ealready_result {
  bool orphaned = false; // handler ran with operation_aborted and an empty buffer
  bool buffer_alive_at_handler = false;
  bool cancelled_before_copy = false; // aborted with the buffer back: the worker had not started
  bool completed = false;             // the read finished before the cancel went in
};

// `delay`: when the cancel is emitted; the worker must be copying by then (see the retry below).
ealready_result terminal_cancel_of_running_read(ct type, std::chrono::milliseconds delay) {
  io_context ctx;
  big_sparse_file file;
  asio::cancellation_signal sig;
  ealready_result r;
  int calls = 0;
  // Offloaded to io-wq, a worker copies 512 MiB and cannot be interrupted: EALREADY.
  asio_uring::random_access_file f(ctx, ::dup(file.fd));
  f.set_force_async(true);
  asio::post(ctx, [&] {
    f.async_read_some_at(0, tracked_buffer(big_sparse_file::size),
                         asio::bind_cancellation_slot(
                             sig.slot(), [&](error_code ec, std::size_t n, tracked_buffer b) {
                               ++calls;
                               r.orphaned = ec == asio::error::operation_aborted && b.empty();
                               r.cancelled_before_copy =
                                   ec == asio::error::operation_aborted && !b.empty();
                               r.completed = !ec;
                               // Orphaned: the kernel still writes into the buffer, so it is alive
                               // (in the op block), not destroyed and not handed back.
                               r.buffer_alive_at_handler = asio_uring::test::stats().live == 1;
                               if (!r.orphaned && !ec)
                                 BOOST_TEST(n == big_sparse_file::size);
                             }));
  });
  asio_uring::steady_timer t(ctx, delay);
  t.async_wait([&](error_code) { sig.emit(type); });
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(calls == 1);
  return r;
}

} // namespace

// Terminal cancellation never waits for I/O the kernel cannot interrupt: the handler completes
// at once, the buffer stays in the op block and is destroyed at the final CQE (the tracked
// buffer fails the test if it is destroyed while the SQE may still write into it).
BOOST_AUTO_TEST_CASE(terminal_cancel_answered_ealready_orphans_the_buffer) {
  // The cancel must land while an io-wq worker copies. On a loaded machine the worker may not
  // have started yet (the cancel removes it from the queue: aborted, buffer back) or may have
  // finished: the delay adapts until the EALREADY path has been seen three times.
  int orphaned = 0, attempts = 0;
  auto delay = 3ms;
  for (; attempts < 60 && orphaned < 3; ++attempts) {
    ealready_result r = terminal_cancel_of_running_read(ct::terminal, delay);
    if (r.orphaned) {
      ++orphaned;
      BOOST_TEST(r.buffer_alive_at_handler);
    } else if (r.cancelled_before_copy) {
      delay = std::min(delay * 2, 200ms);
    } else if (r.completed) {
      delay = std::max(delay / 2, 1ms);
    }
  }
  BOOST_TEST_MESSAGE("EALREADY seen " << orphaned << " times in " << attempts
                                      << " attempts, last delay " << delay.count() << " ms");
  BOOST_TEST(orphaned >= 3, "EALREADY path observed " << orphaned << " times");
}

// Partial and total cancellation of the same uninterruptible read wait for the real result.
BOOST_AUTO_TEST_CASE(partial_and_total_cancel_answered_ealready_wait_for_the_result) {
  for (ct type : {ct::partial, ct::total})
    for (int attempt = 0; attempt < 3; ++attempt) {
      ealready_result r = terminal_cancel_of_running_read(type, 3ms);
      BOOST_TEST(!r.orphaned);
    }
}

BOOST_AUTO_TEST_CASE(slot_of_every_kind_is_honoured_through_asio_filters) {
  // A filtering slot that passes only terminal (what co_spawn and Beast hand inner ops).
  io_context ctx;
  asio_uring::test::pipe_pair p;
  stream_descriptor in(ctx, p.take_read());
  asio::cancellation_signal sig;
  error_code got;
  in.async_read_some(tracked_buffer(4),
                     asio::bind_cancellation_slot(sig.slot(), [&](error_code ec, std::size_t,
                                                                  tracked_buffer) { got = ec; }));
  BOOST_TEST(ctx.poll() == 0u);
  sig.emit(ct::partial);
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(got == asio::error::operation_aborted);
}

BOOST_AUTO_TEST_SUITE_END()
