// Model-based test of the op block's state machine. Random sequences of submissions,
// cancellations (partial / total / terminal, close), kernel results and cancel answers (0,
// ENOENT, EALREADY), SEND_ZC's F_MORE + F_NOTIF pair and a shutdown with CQEs still arriving are
// fed into the real scheduler through detail::scheduler_probe: initiations and cancellations
// prepare their SQEs exactly as when running, but the ring is never enabled, and the CQEs are
// made up here with the orders and results the kernel may produce. After every step the
// scheduler must agree with a small reference model of DESIGN.md's table: which SQEs it
// prepared, which handlers ran (once, with which result, with the buffer or not), which blocks
// and buffers are still alive; and no buffer may die before its op's final CQE.
#include "fixtures.hpp"

#include <asio_uring.hpp>
#include <asio_uring/detail/scheduler_probe.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include <cstdint>
#include <cstdlib>
#include <deque>
#include <liburing.h>
#include <optional>
#include <random>
#include <sys/socket.h>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

namespace asio = boost::asio;
using asio_uring::test::tracked_buffer;
using boost::system::error_code;

namespace {

enum class kind { owned_read, borrowed_read, send_zc, owned_write };
constexpr bool is_owned(kind k) {
  return k != kind::borrowed_read;
}
constexpr bool is_read(kind k) {
  return k == kind::owned_read || k == kind::borrowed_read;
}
constexpr bool on_socket(kind k) {
  return k == kind::send_zc || k == kind::owned_write;
}

// What the test saw of one op's handler.
struct record {
  int invoked = 0;
  int destroyed_uninvoked = 0;
  error_code ec;
  std::size_t n = 0;
  bool buffer_back = false;
};

// The completion handler: records its invocation, and its destruction if it never ran.
class probe_handler {
public:
  explicit probe_handler(record* r) : rec_(r) {}
  probe_handler(probe_handler&& o) noexcept
      : rec_(o.rec_), armed_(std::exchange(o.armed_, false)) {}
  probe_handler& operator=(probe_handler&&) = delete;
  ~probe_handler() {
    if (armed_ && rec_->invoked == 0)
      ++rec_->destroyed_uninvoked;
  }
  void operator()(error_code ec, std::size_t n, tracked_buffer b) {
    hit(ec, n);
    rec_->buffer_back = !b.empty();
  }
  void operator()(error_code ec, std::size_t n) { hit(ec, n); }

private:
  void hit(error_code ec, std::size_t n) {
    ++rec_->invoked;
    rec_->ec = ec;
    rec_->n = n;
  }
  record* rec_;
  bool armed_ = true;
};

// The reference model's view of one op.
struct model_op {
  kind k;
  std::size_t size;
  record seen;            // filled by the handler
  record want;            // what the model expects
  std::uint64_t addr = 0; // the block's address, learnt from its SQE
  bool sqe = false;       // its SQE was prepared
  bool gated = false;     // waits behind the socket's op in flight
  bool handler_live = true;
  bool final_produced = false; // the kernel posted its final CQE (maybe not yet delivered)
  bool first_produced = false; // SEND_ZC: the result CQE with F_MORE
  bool final_delivered = false;
  bool running = false; // the kernel answered EALREADY: nothing stops it now
  bool have_more = false;
  int more_res = 0;
  int cancels_pending = 0; // cancel SQEs whose CQE has not been delivered
  unsigned cancel_type = 0;
  bool freed = false;
  bool buffer_in_block = false; // an owned buffer the block holds (not handed back, not freed)
  asio::cancellation_signal sig;
  std::vector<char> borrowed;
};

struct cqe_item {
  std::size_t op; // index, or npos for the close's own cancel
  asio_uring::detail::cqe_tag tag;
  int res;
  unsigned flags;
};
constexpr std::size_t npos = static_cast<std::size_t>(-1);

error_code expected_error(kind k, int res, std::size_t size) {
  if (res < 0)
    return {-res, boost::system::system_category()};
  if (res == 0 && is_read(k) && size > 0)
    return asio::error::eof;
  return {};
}

class sequence {
public:
  sequence(std::uint64_t seed, bool may_abandon) : rng_(seed), may_abandon_(may_abandon) {
    ctx_.emplace(options());
    int pfd[2];
    BOOST_TEST_REQUIRE(::pipe(pfd) == 0);
    ::close(pfd[1]);
    desc_.emplace(*ctx_, pfd[0]);
    int sv[2];
    BOOST_TEST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    ::close(sv[1]);
    sock_.emplace(*ctx_);
    sock_->assign(asio_uring::local::stream_protocol(), sv[0]);
    probe_.emplace(ctx_->impl());
  }

  void run(int steps) {
    for (int i = 0; i < steps && !failed_; ++i) {
      step();
      check(i);
    }
    if (!failed_)
      finish();
  }

  bool failed() const { return failed_; }
  std::size_t ops() const { return ops_.size(); }

private:
  static asio_uring::io_context_options options() {
    asio_uring::io_context_options o;
    o.entries = 4096; // the probe's SQEs are never consumed: room for a whole sequence
    o.drain_timeout = std::chrono::milliseconds(0);
    return o;
  }

  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  bool chance(int percent) { return pick(100) < percent; }

  void step() {
    switch (pick(10)) {
    case 0:
    case 1:
      if (ops_.size() < 10)
        return start_op();
      return deliver_next();
    case 2:
    case 3:
      return cancel_op();
    case 4:
    case 5:
      return kernel_completes();
    case 6:
      return kernel_answers_cancel();
    case 7:
    case 8:
      return deliver_next();
    default:
      return chance(10) ? close_object() : deliver_next();
    }
  }

  // ---- application side -------------------------------------------------------------------

  void start_op() {
    ops_.emplace_back();
    model_op& op = ops_.back();
    std::size_t idx = ops_.size() - 1;
    op.k = static_cast<kind>(pick(4));
    op.size = 1 + static_cast<std::size_t>(pick(4096));
    auto token = [&] {
      return asio::bind_cancellation_slot(op.sig.slot(), probe_handler(&op.seen));
    };
    bool closed = on_socket(op.k) ? sock_closed_ : desc_closed_;
    switch (op.k) {
    case kind::owned_read:
      desc_->async_read_some(tracked_buffer(op.size), token());
      break;
    case kind::borrowed_read:
      op.borrowed.resize(op.size);
      desc_->async_read_some(asio::buffer(op.borrowed), token());
      break;
    case kind::send_zc:
      sock_->async_send_zc(tracked_buffer(op.size), token());
      break;
    case kind::owned_write:
      sock_->async_write_some(tracked_buffer(op.size), token());
      break;
    }
    op.buffer_in_block = is_owned(op.k);
    if (closed) { // completes at once (posted) with EBADF, no SQE
      probe_->run_queued();
      complete(idx, -EBADF, true);
      op.freed = true;
      return;
    }
    if (on_socket(op.k) && (gate_active_ != npos || !gate_.empty())) {
      op.gated = true;
      gate_.push_back(idx);
      return;
    }
    begin_in_kernel(idx);
  }

  void begin_in_kernel(std::size_t idx) {
    model_op& op = ops_[idx];
    op.sqe = true;
    op.gated = false;
    if (on_socket(op.k))
      gate_active_ = idx;
    expect_sqe(idx, asio_uring::detail::cqe_tag::op);
  }

  void cancel_op() {
    if (ops_.empty())
      return;
    std::size_t idx = static_cast<std::size_t>(pick(static_cast<int>(ops_.size())));
    model_op& op = ops_[idx];
    static constexpr asio::cancellation_type types[] = {asio::cancellation_type::partial,
                                                        asio::cancellation_type::total,
                                                        asio::cancellation_type::terminal};
    asio::cancellation_type t = types[pick(3)];
    op.sig.emit(t);
    probe_->run_queued();
    if (!op.handler_live || op.final_delivered)
      return; // completed already: the real result stands (and the slot is cleared)
    op.cancel_type |= static_cast<unsigned>(t);
    if (op.gated) { // leaves the line: aborted without an SQE, the buffer back
      std::erase(gate_, idx);
      complete(idx, -ECANCELED, true);
      op.freed = true;
      op.gated = false;
      return;
    }
    ++op.cancels_pending;
    unanswered_.push_back(idx);
    expect_sqe(idx, asio_uring::detail::cqe_tag::cancel);
  }

  void close_object() { close_object(chance(50)); }

  void close_object(bool socket) {
    bool& closed = socket ? sock_closed_ : desc_closed_;
    if (closed)
      return;
    closed = true;
    if (socket)
      sock_->close();
    else
      desc_->close();
    expected_sqes_.push_back(static_cast<std::uint64_t>(asio_uring::detail::cqe_tag::internal));
    // The ops waiting behind the socket's op in flight never reached the kernel: aborted.
    if (socket) {
      for (std::size_t idx : std::exchange(gate_, {})) {
        complete(idx, -ECANCELED, true);
        ops_[idx].freed = true;
        ops_[idx].gated = false;
      }
    }
    probe_->run_queued();
    // ASYNC_CANCEL_FD|ALL: the kernel cancels what it can on that fd.
    int cancelled = 0;
    for (std::size_t idx = 0; idx < ops_.size(); ++idx) {
      model_op& op = ops_[idx];
      if (on_socket(op.k) == socket && op.sqe && !op.final_produced && !op.running &&
          !op.first_produced) {
        produce_cancelled_final(idx);
        ++cancelled;
      }
    }
    cq_.push_back(
        {npos, asio_uring::detail::cqe_tag::internal, cancelled ? cancelled : -ENOENT, 0});
  }

  // ---- kernel side ------------------------------------------------------------------------

  void produce_cancelled_final(std::size_t idx) {
    model_op& op = ops_[idx];
    op.final_produced = true;
    if (op.k == kind::send_zc && chance(50)) { // result with F_MORE, then the notification
      op.first_produced = true;
      cq_.push_back({idx, asio_uring::detail::cqe_tag::op, -ECANCELED, IORING_CQE_F_MORE});
      cq_.push_back({idx, asio_uring::detail::cqe_tag::op, 0, IORING_CQE_F_NOTIF});
    } else {
      cq_.push_back({idx, asio_uring::detail::cqe_tag::op, -ECANCELED, 0});
    }
  }

  void kernel_completes() {
    std::vector<std::size_t> due;
    for (std::size_t i = 0; i < ops_.size(); ++i)
      if (ops_[i].sqe && !ops_[i].final_produced)
        due.push_back(i);
    if (due.empty())
      return;
    std::size_t idx = due[static_cast<std::size_t>(pick(static_cast<int>(due.size())))];
    model_op& op = ops_[idx];
    if (op.k == kind::send_zc) {
      if (op.first_produced) {
        op.final_produced = true;
        cq_.push_back({idx, asio_uring::detail::cqe_tag::op, 0, IORING_CQE_F_NOTIF});
      } else if (chance(80)) {
        op.first_produced = true;
        int res = chance(80) ? 1 + pick(static_cast<int>(op.size)) : -EPIPE;
        cq_.push_back({idx, asio_uring::detail::cqe_tag::op, res, IORING_CQE_F_MORE});
      } else { // failed before any notification was due: one CQE without F_MORE
        op.final_produced = true;
        cq_.push_back({idx, asio_uring::detail::cqe_tag::op, -EPIPE, 0});
      }
      return;
    }
    op.final_produced = true;
    int r = pick(10);
    int res = r < 7 ? 1 + pick(static_cast<int>(op.size)) : r < 9 ? 0 : -ECONNRESET;
    if (op.k == kind::owned_write && res == 0)
      res = -EPIPE;
    cq_.push_back({idx, asio_uring::detail::cqe_tag::op, res, 0});
  }

  void kernel_answers_cancel() {
    if (unanswered_.empty())
      return;
    std::size_t at = static_cast<std::size_t>(pick(static_cast<int>(unanswered_.size())));
    std::size_t idx = unanswered_[at];
    unanswered_.erase(unanswered_.begin() + static_cast<std::ptrdiff_t>(at));
    model_op& op = ops_[idx];
    int res;
    if (op.final_produced || op.first_produced) {
      res = -ENOENT; // it completed: nothing to cancel
    } else if (op.running || chance(30)) {
      op.running = true; // being copied by a worker that cannot be interrupted
      res = -EALREADY;
    } else {
      res = 0;
      bool final_first = chance(70);
      if (final_first)
        produce_cancelled_final(idx);
      cq_.push_back({idx, asio_uring::detail::cqe_tag::cancel, res, 0});
      if (!final_first)
        produce_cancelled_final(idx);
      return;
    }
    cq_.push_back({idx, asio_uring::detail::cqe_tag::cancel, res, 0});
  }

  // ---- the run loop takes a CQE -----------------------------------------------------------

  std::uint64_t user_data(const cqe_item& c) const {
    if (c.op == npos)
      return static_cast<std::uint64_t>(c.tag);
    return ops_[c.op].addr | static_cast<std::uint64_t>(c.tag);
  }

  void deliver_next() {
    if (cq_.empty())
      return;
    cqe_item c = cq_.front();
    cq_.pop_front();
    std::uint64_t ud = user_data(c);
    if (c.op != npos)
      model_delivery(c);
    probe_->deliver(ud, c.res, c.flags);
  }

  void model_delivery(const cqe_item& c) {
    model_op& op = ops_[c.op];
    using asio_uring::detail::cqe_tag;
    if (c.tag == cqe_tag::op && (c.flags & IORING_CQE_F_MORE)) {
      if (op.handler_live) {
        op.have_more = true;
        op.more_res = c.res;
      }
      return;
    }
    if (c.tag == cqe_tag::op) {
      op.final_delivered = true;
      if (op.handler_live) {
        int res = c.res;
        if (op.k == kind::send_zc && (op.have_more || (c.flags & IORING_CQE_F_NOTIF)))
          res = op.have_more ? op.more_res : 0;
        complete(c.op, res, true);
      }
      release_if_done(c.op);
      if (on_socket(op.k) && gate_active_ == c.op) { // the next queued send goes in
        gate_active_ = npos;
        if (!gate_.empty()) {
          std::size_t next = gate_.front();
          gate_.pop_front();
          begin_in_kernel(next);
        }
      }
      return;
    }
    if (c.tag == cqe_tag::cancel) {
      --op.cancels_pending;
      if (c.res == -EALREADY &&
          (op.cancel_type & static_cast<unsigned>(asio::cancellation_type::terminal)) &&
          is_owned(op.k) && op.handler_live)
        complete(c.op, -ECANCELED, false); // orphaned: the buffer stays in the block
      release_if_done(c.op);
    }
  }

  // The handler runs with `res`; `buffer_back`: an owned buffer comes back with it.
  void complete(std::size_t idx, int res, bool buffer_back) {
    model_op& op = ops_[idx];
    op.handler_live = false;
    op.want.invoked = 1;
    op.want.ec = expected_error(op.k, res, op.size);
    op.want.n = res > 0 ? static_cast<std::size_t>(res) : 0;
    op.want.buffer_back = is_owned(op.k) && buffer_back;
    if (op.want.buffer_back)
      op.buffer_in_block = false;
  }

  void release_if_done(std::size_t idx) {
    model_op& op = ops_[idx];
    if (op.final_delivered && op.cancels_pending == 0 && !op.handler_live) {
      op.freed = true;
      op.buffer_in_block = false;
    }
  }

  void expect_sqe(std::size_t idx, asio_uring::detail::cqe_tag tag) {
    pending_learn_.push_back(idx);
    expected_sqes_.push_back(static_cast<std::uint64_t>(tag));
  }

  // ---- checks -----------------------------------------------------------------------------

  void fail(int step, const std::string& what) {
    BOOST_TEST_ERROR("step " << step << ": " << what);
    failed_ = true;
  }

  void check(int step) {
    // The SQEs prepared in this step: one per op start or cancel, one for a close, in order.
    auto got = probe_->take_prepared();
    if (got.size() != expected_sqes_.size()) {
      fail(step, "prepared " + std::to_string(got.size()) + " SQEs, model expects " +
                     std::to_string(expected_sqes_.size()));
      return;
    }
    std::size_t learn = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
      std::uint64_t tag = got[i].user_data & asio_uring::detail::cqe_tag_mask;
      if (tag != expected_sqes_[i]) {
        fail(step, "SQE tag " + std::to_string(tag) + ", model expects " +
                       std::to_string(expected_sqes_[i]));
        return;
      }
      if (tag == static_cast<std::uint64_t>(asio_uring::detail::cqe_tag::internal))
        continue;
      model_op& op = ops_[pending_learn_[learn++]];
      std::uint64_t addr = got[i].user_data & ~asio_uring::detail::cqe_tag_mask;
      if (tag == static_cast<std::uint64_t>(asio_uring::detail::cqe_tag::op))
        op.addr = addr;
      else if (addr != op.addr)
        fail(step, "cancel SQE names another block");
    }
    expected_sqes_.clear();
    pending_learn_.clear();
    check_handlers(step);
    std::size_t blocks = 0;
    long buffers = 0;
    for (const model_op& op : ops_) {
      blocks += op.sqe && !op.freed;
      buffers += op.buffer_in_block;
    }
    if (probe_->blocks_started_not_freed() != blocks)
      fail(step, "blocks alive " + std::to_string(probe_->blocks_started_not_freed()) +
                     ", model expects " + std::to_string(blocks));
    if (asio_uring::test::stats().live != buffers)
      fail(step, "owned buffers alive " + std::to_string(asio_uring::test::stats().live) +
                     ", model expects " + std::to_string(buffers));
    check_invariant(step);
  }

  std::string describe(std::size_t i) const {
    const model_op& op = ops_[i];
    return " [kind " + std::to_string(static_cast<int>(op.k)) + " sqe " + std::to_string(op.sqe) +
           " gated " + std::to_string(op.gated) + " live " + std::to_string(op.handler_live) +
           " produced " + std::to_string(op.final_produced) + " delivered " +
           std::to_string(op.final_delivered) + " running " + std::to_string(op.running) +
           " cancels " + std::to_string(op.cancels_pending) + " freed " + std::to_string(op.freed) +
           "]";
  }

  void check_handlers(int step) {
    for (std::size_t i = 0; i < ops_.size(); ++i) {
      const record& s = ops_[i].seen;
      const record& w = ops_[i].want;
      if (s.invoked != w.invoked || s.destroyed_uninvoked != w.destroyed_uninvoked ||
          (w.invoked && (s.ec != w.ec || s.n != w.n || s.buffer_back != w.buffer_back)))
        fail(step, "op " + std::to_string(i) + ": handler ran " + std::to_string(s.invoked) +
                       " (model " + std::to_string(w.invoked) + "), destroyed " +
                       std::to_string(s.destroyed_uninvoked) + " (model " +
                       std::to_string(w.destroyed_uninvoked) + "), ec " + s.ec.message() +
                       " (model " + w.ec.message() + "), n " + std::to_string(s.n) + " (model " +
                       std::to_string(w.n) + "), buffer back " + std::to_string(s.buffer_back) +
                       " (model " + std::to_string(w.buffer_back) + ")" + describe(i));
    }
  }

  void check_invariant(int step) {
    auto& st = asio_uring::test::stats();
    if (st.destroyed_in_use || st.destroyed_twice || asio_uring::detail::invariant_violations())
      fail(step, "a buffer or block died while an SQE pointed at it");
  }

  // ---- shutdown: CQEs already posted, and some the drain's cancel brings, are handled by the
  // shutdown (handlers destroyed, never run); what still has a CQE due is abandoned.
  void finish() {
    // The objects go first, as in a program: each close cancels what it can on its fd.
    close_object(true);
    close_object(false);
    check(-1);
    std::size_t abandoned = 0;
    long leaked_buffers = 0;
    for (std::size_t idx = 0; idx < ops_.size(); ++idx) {
      model_op& op = ops_[idx];
      if (op.sqe && !op.final_produced && (!may_abandon_ || chance(50))) {
        if (op.running || op.first_produced) { // completes by itself during the drain
          op.final_produced = true;
          cq_.push_back({idx, asio_uring::detail::cqe_tag::op, op.k == kind::send_zc ? 0 : 1,
                         op.k == kind::send_zc ? unsigned(IORING_CQE_F_NOTIF) : 0u});
        } else {
          produce_cancelled_final(idx);
        }
      }
    }
    std::vector<std::size_t> keep;
    for (std::size_t idx : unanswered_)
      if (!may_abandon_ || chance(50))
        cq_.push_back({idx, asio_uring::detail::cqe_tag::cancel, -ENOENT, 0});
      else
        keep.push_back(idx);
    for (const cqe_item& c : cq_) {
      probe_->arrives_during_shutdown(user_data(c), c.res, c.flags);
      if (c.op == npos)
        continue;
      model_op& op = ops_[c.op];
      if (c.tag == asio_uring::detail::cqe_tag::cancel)
        --op.cancels_pending;
      else if (!(c.flags & IORING_CQE_F_MORE))
        op.final_delivered = true;
    }
    for (std::size_t idx : keep)
      (void)idx; // never answered: its op stays abandoned
    for (model_op& op : ops_) {
      if (op.gated) { // never reached the kernel: destroyed with the queue
        op.want.destroyed_uninvoked = 1;
        op.buffer_in_block = false;
        continue;
      }
      if (!op.sqe || op.freed)
        continue;
      // Its final CQE came: the kernel is done with its memory, the handler is destroyed
      // (even if a cancel CQE naming the block is still due: that keeps only the block).
      if (op.final_delivered && op.handler_live)
        op.want.destroyed_uninvoked = 1;
      if (op.final_delivered && op.cancels_pending == 0) {
        op.buffer_in_block = false;
      } else { // leaked on purpose, with what the kernel may still write
        ++abandoned;
        leaked_buffers += op.buffer_in_block;
      }
    }
    std::size_t seen_abandoned = probe_->shutdown();
    probe_.reset();
    sock_.reset();
    desc_.reset();
    ctx_.reset();
    check_handlers(-1);
    check_invariant(-1);
    if (seen_abandoned != abandoned)
      fail(-1, "abandoned " + std::to_string(seen_abandoned) + ", model expects " +
                   std::to_string(abandoned));
    if (asio_uring::test::stats().live != leaked_buffers)
      fail(-1, "buffers alive after shutdown " + std::to_string(asio_uring::test::stats().live) +
                   ", model expects " + std::to_string(leaked_buffers) + " (abandoned)");
  }

private:
  std::mt19937_64 rng_;
  bool may_abandon_;
  bool failed_ = false;
  std::deque<model_op> ops_; // outlives the context: signals and records are referenced by ops
  std::optional<asio_uring::io_context> ctx_;
  std::optional<asio_uring::posix::stream_descriptor> desc_;
  std::optional<asio_uring::local::stream_protocol::socket> sock_;
  std::optional<asio_uring::detail::scheduler_probe> probe_;
  bool desc_closed_ = false, sock_closed_ = false;
  std::size_t gate_active_ = npos;
  std::deque<std::size_t> gate_;        // socket ops waiting behind gate_active_
  std::deque<cqe_item> cq_;             // posted by the kernel, not yet taken
  std::vector<std::size_t> unanswered_; // cancel SQEs the kernel has not answered
  std::vector<std::uint64_t> expected_sqes_;
  std::vector<std::size_t> pending_learn_;
};

std::uint64_t base_seed() {
  if (const char* s = std::getenv("ASIO_URING_MODEL_SEED"))
    return std::strtoull(s, nullptr, 0);
  return 20261124;
}

} // namespace

BOOST_AUTO_TEST_SUITE(op_block_model_tests)

BOOST_AUTO_TEST_CASE(random_event_sequences_match_the_reference_model) {
  const std::uint64_t seed = base_seed();
  constexpr int sequences = 3000, steps = 60;
  BOOST_TEST_MESSAGE("op_block_model: seed " << seed << " (ASIO_URING_MODEL_SEED), " << sequences
                                             << " sequences of " << steps << " steps");
  std::size_t ops = 0;
  for (int i = 0; i < sequences; ++i) {
    asio_uring::test::stats().reset();
    const std::uint64_t s = seed + static_cast<std::uint64_t>(i);
    const bool may_abandon = i % 4 == 3;
    {
#if defined(__SANITIZE_ADDRESS__)
      // Abandoned ops are leaked on purpose (their memory may still be the kernel's).
      std::optional<__lsan::ScopedDisabler> no_leak_check;
      if (may_abandon)
        no_leak_check.emplace();
#endif
      sequence seq(s, may_abandon);
      seq.run(steps);
      ops += seq.ops();
      if (seq.failed()) {
        BOOST_TEST_ERROR("sequence seed " << s << " (may abandon: " << may_abandon << ")");
        break;
      }
    }
  }
  asio_uring::test::stats().reset();
  BOOST_TEST_MESSAGE("op_block_model: " << ops << " ops checked");
}

BOOST_AUTO_TEST_SUITE_END()
