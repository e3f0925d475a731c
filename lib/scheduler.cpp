// The run loop: queues, CQE dispatch, cancellation bridge, block pool and the shutdown drain.
#include <asio_uring/detail/scheduler.hpp>

#include <asio_uring/detail/scheduler_probe.hpp>
#include <asio_uring/detail/socket_state.hpp>

#include "invariant_check.hpp"
#include "multishot_source.hpp"
#include "ring_state.hpp"

#include <boost/asio/detail/thread_context.hpp>
#include <boost/asio/detail/thread_info_base.hpp>
#include <boost/system/system_error.hpp>

#include <cerrno>
#include <chrono>
#include <algorithm>
#include <stdexcept>
#include <string>
#include <sys/uio.h>
#include <new>
#include <thread>
#include <vector>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

namespace asio_uring::detail {

namespace {

// Which schedulers this thread is running (a stack: a handler may run another context).
struct run_frame {
  const scheduler* owner;
  run_frame* prev;
};
thread_local run_frame* top_frame = nullptr;

// Lets Asio's recycling allocator (coroutine frames, any_io_executor functions) cache memory
// on our running thread as it does on its own.
struct asio_thread_hook : boost::asio::detail::thread_context {
  boost::asio::detail::thread_info_base info;
  thread_call_stack::context ctx{this, info};
};

// Rings a thread owns (IORING_SETUP_SINGLE_ISSUER). When the thread exits, each ring's
// in-flight ops are cancelled and their CQEs collected while the owner still can, so that the
// context can be destroyed or run by another thread afterwards (see docs/design.md).
std::mutex owner_mutex;

} // namespace

struct owned_rings {
  std::vector<scheduler*> list;
  ~owned_rings() {
    std::lock_guard<std::mutex> lock(owner_mutex);
    for (scheduler* s : list) {
      s->owner_list_ = nullptr;
      s->drain_at_owner_exit();
    }
  }
};

namespace {

thread_local owned_rings this_thread_rings;

std::uint64_t user_data(const op_block* op, cqe_tag tag) noexcept {
  return reinterpret_cast<std::uint64_t>(op) | static_cast<std::uint64_t>(tag);
}
static_assert(wake_user_data == static_cast<std::uint64_t>(cqe_tag::wake));
constexpr std::uint64_t internal_user_data = static_cast<std::uint64_t>(cqe_tag::internal);

} // namespace

// ---- op_block queue hooks -------------------------------------------------------------------

op_block::op_block(const vtable* v, std::uint32_t block_size) noexcept
    : scheduler_operation(&do_queued), block_size_(block_size), vtbl_(v),
      cancel_request_(&do_cancel_request) {}

// The op was queued: to be started by the running thread, or to complete without an SQE.
void op_block::do_queued(scheduler* owner, scheduler_operation* base) {
  auto* op = static_cast<op_block*>(base);
  op->state_ &= ~queued;
  if (!owner) { // shutdown: it never reached the kernel
    if (op->state_ & handler_live) {
      op->state_ &= ~handler_live;
      op->vtbl_->destroy_handler(op);
    }
    if ((op->state_ & carries_result) && op->vtbl_->discard)
      op->vtbl_->discard(op, op->immediate_res_, op->immediate_flags_);
    if (!(op->state_ & cancel_queued))
      op->vtbl_->destroy(op, nullptr);
    return;
  }
  if (!(op->state_ & (immediate | cancel_before_start))) {
    owner->last_was_internal_ = true;
    if (op->state_ & timer_wait)
      owner->heap_push(op);
    else
      owner->do_start(op);
    return;
  }
  int res = (op->state_ & immediate) ? op->immediate_res_ : -ECANCELED;
  unsigned flags = (op->state_ & immediate) ? op->immediate_flags_ : 0;
  op->state_ =
      static_cast<std::uint16_t>((op->state_ & ~(handler_live | carries_result)) | final_cqe);
  bool invoked = false;
  op->vtbl_->complete(op, *owner, res, flags, invoked);
}

void op_block::do_cancel_request(scheduler* owner, scheduler_operation* base) {
  auto* req = static_cast<cancel_request*>(base);
  op_block* op = req->op_;
  op->state_ &= ~cancel_queued;
  scheduler& s = *req->scheduler_;
  if (owner) {
    owner->last_was_internal_ = true;
    auto type = req->type_;
    req->type_ = boost::asio::cancellation_type::none;
    s.do_cancel(op, type);
  }
  if (!owner && !(op->state_ & (queued | in_kernel | handler_live)) && !op->cancels_in_flight_)
    s.free_block(op);
  else
    s.release_block(op);
}

// ---- construction, pool ---------------------------------------------------------------------

scheduler::scheduler(boost::asio::execution_context& ctx, const io_context_options& opts)
    : boost::asio::execution_context::service(ctx), options_(opts),
      ring_(std::make_unique<ring_state>(opts)) {}

scheduler::~scheduler() {
  for (std::size_t cls = 0; cls < block_classes; ++cls)
    while (void* head = free_blocks_[cls]) {
      free_blocks_[cls] = *static_cast<void**>(head);
      invariant::check_canary(head, (cls + 1) * block_granule);
      ::operator delete(head);
    }
}

unsigned scheduler::ring_setup_flags() const noexcept {
  return ring_->setup_flags;
}

void* scheduler::allocate_block(std::size_t size) {
  size = block_round(size);
  std::size_t cls = size / block_granule - 1;
  if (cls < block_classes && running_in_this_thread())
    if (void* p = free_blocks_[cls]) {
      free_blocks_[cls] = *static_cast<void**>(p);
      --free_counts_[cls];
      invariant::check_canary(p, size); // nothing wrote into it while it was free
      return p;
    }
  return ::operator new(size);
}

void scheduler::deallocate_block(void* p, std::size_t size) noexcept {
  size = block_round(size);
  std::size_t cls = size / block_granule - 1;
  // Keep a bounded cache: a burst of posts from other threads must not pin memory forever.
  // Only the running thread (or shutdown, when nobody runs) touches the cache.
  if (cls >= block_classes || free_counts_[cls] >= max_cached_blocks ||
      (!running_in_this_thread() && !shutting_down_)) {
    ::operator delete(p);
    return;
  }
  *static_cast<void**>(p) = free_blocks_[cls];
  invariant::fill_canary(p, size);
  free_blocks_[cls] = p;
  ++free_counts_[cls];
}

bool scheduler::running_in_this_thread() const noexcept {
  for (run_frame* f = top_frame; f; f = f->prev)
    if (f->owner == this)
      return true;
  return false;
}

// ---- queues ---------------------------------------------------------------------------------

void scheduler::post(scheduler_operation* op) noexcept {
  if (running_in_this_thread()) {
    local_.push(op);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(remote_mutex_);
    remote_.push(op);
    remote_nonempty_.store(true, std::memory_order_seq_cst);
  }
  // Only a runner about to block needs the eventfd; one poster wakes it (pairs with enter()).
  if (sleeping_.load(std::memory_order_seq_cst) && sleeping_.exchange(false))
    wake();
}

void scheduler::wake() noexcept {
  ::eventfd_write(ring_->wake_fd, 1);
}

void scheduler::stop() noexcept {
  stopped_.store(true, std::memory_order_release);
  if (!running_in_this_thread())
    wake();
}

// ---- registered buffers ---------------------------------------------------------------------

namespace {
constexpr unsigned fixed_table_size = 16384; // IORING_MAX_REG_BUFFERS

[[noreturn]] void throw_register_error(int err, std::size_t bytes) {
  std::string m = "asio_uring::buffer_pool: registering " + std::to_string(bytes) +
                  " bytes of buffers with io_uring failed";
  if (err == ENOMEM)
    m += " (ENOMEM): registered buffers are locked memory and count against RLIMIT_MEMLOCK. "
         "Remedy: raise `ulimit -l` (or LimitMEMLOCK= for a systemd service), or use fewer or "
         "smaller buffers";
  else if (err == EEXIST || err == EBUSY)
    m += ": buffers can be registered only from the thread running the io_context, or before "
         "any thread ran it";
  throw boost::system::system_error(
      boost::system::error_code(err, boost::system::system_category()), m);
}

int update_fixed(io_uring& ring, unsigned first, const void* base, std::size_t size, unsigned n) {
  std::vector<::iovec> iov(n);
  for (unsigned i = 0; i < n; ++i)
    iov[i] = {base ? static_cast<char*>(const_cast<void*>(base)) + i * size : nullptr,
              base ? size : 0};
  return io_uring_register_buffers_update_tag(&ring, first, iov.data(), nullptr, n);
}
} // namespace

unsigned scheduler::register_fixed_buffers(const void* base, std::size_t buffer_size, unsigned n) {
  std::lock_guard<std::mutex> lock(owner_mutex);
  ring_state& r = *ring_;
  bool may = !r.enabled || !(r.setup_flags & IORING_SETUP_SINGLE_ISSUER) ||
             r.owner == std::this_thread::get_id();
  if (!may)
    throw_register_error(EBUSY, buffer_size * n);
  if (!fixed_table_) {
    int rc = io_uring_register_buffers_sparse(&r.ring, fixed_table_size);
    if (rc < 0)
      throw_register_error(-rc, buffer_size * n);
    fixed_table_ = true;
  }
  // First fit in the sorted list of ranges.
  unsigned first = 0;
  auto it = fixed_ranges_.begin();
  for (; it != fixed_ranges_.end() && it->first < first + n; ++it)
    first = it->first + it->n;
  if (first + n > fixed_table_size)
    throw_register_error(ENOSPC, buffer_size * n);
  int rc = update_fixed(r.ring, first, base, buffer_size, n);
  if (rc < 0)
    throw_register_error(-rc, buffer_size * n);
  fixed_ranges_.insert(it, fixed_range{first, n, base, buffer_size});
  return first;
}

void scheduler::release_fixed_buffers(unsigned first, unsigned n) noexcept {
  std::lock_guard<std::mutex> lock(owner_mutex);
  std::erase_if(fixed_ranges_, [&](const fixed_range& f) { return f.first == first; });
  ring_state& r = *ring_;
  // Clear the slots when this thread may; otherwise they stay registered until a new range
  // overwrites them (no operation can name them: their pooled_buffers are gone).
  if (!r.enabled || !(r.setup_flags & IORING_SETUP_SINGLE_ISSUER) ||
      r.owner == std::this_thread::get_id())
    (void)update_fixed(r.ring, first, nullptr, 0, n);
}

namespace {
int register_ring(io_uring& ring, std::uint16_t group, void* addr, unsigned entries) {
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uint64_t>(addr);
  reg.ring_entries = entries;
  reg.bgid = group;
  return io_uring_register_buf_ring(&ring, &reg, 0);
}
} // namespace

std::uint16_t scheduler::register_buf_ring(void* addr, unsigned entries) {
  std::lock_guard<std::mutex> lock(owner_mutex);
  ring_state& r = *ring_;
  bool may = !r.enabled || !(r.setup_flags & IORING_SETUP_SINGLE_ISSUER) ||
             r.owner == std::this_thread::get_id();
  std::string what = "asio_uring::buffer_ring: registering a provided-buffer ring failed";
  int rc = may ? 0 : -EBUSY;
  std::uint16_t group = next_group_;
  for (int tries = 0; rc == 0 && tries < 65536; ++tries, ++group) // a free group id
    if (std::none_of(buf_rings_.begin(), buf_rings_.end(),
                     [&](const buf_ring_reg& b) { return b.group == group; }))
      break;
  if (rc == 0)
    rc = register_ring(r.ring, group, addr, entries);
  if (rc < 0) {
    if (rc == -EBUSY || rc == -EEXIST)
      what += ": rings can be registered only from the thread running the io_context, or "
              "before any thread ran it";
    else if (rc == -EINVAL)
      what += " (EINVAL): this kernel has no buffer rings (Linux 5.19+ needed)";
    else if (rc == -ENOMEM)
      what += " (ENOMEM): the kernel could not allocate or pin the ring's memory (pinned "
              "memory counts against RLIMIT_MEMLOCK). Remedy: raise `ulimit -l` (or "
              "LimitMEMLOCK= for a systemd service), or use fewer buffers";
    throw boost::system::system_error(
        boost::system::error_code(-rc, boost::system::system_category()), what);
  }
  next_group_ = static_cast<std::uint16_t>(group + 1);
  buf_rings_.push_back({group, addr, entries});
  return group;
}

void scheduler::unregister_buf_ring(std::uint16_t group) noexcept {
  std::lock_guard<std::mutex> lock(owner_mutex);
  ring_state& r = *ring_;
  std::erase_if(buf_rings_, [&](const buf_ring_reg& b) { return b.group == group; });
  if (!r.enabled || !(r.setup_flags & IORING_SETUP_SINGLE_ISSUER) ||
      r.owner == std::this_thread::get_id())
    (void)io_uring_unregister_buf_ring(&r.ring, group);
}

// ---- ops ------------------------------------------------------------------------------------

void scheduler::start(op_block* op) noexcept {
  op->state_ |= op_block::handler_live;
  if (running_in_this_thread() && !shutting_down_) {
    do_start(op);
    return;
  }
  op->state_ |= op_block::queued;
  post(op);
}

void scheduler::start_timer(op_block* op, std::int64_t deadline_ns) noexcept {
  op->state_ |= op_block::handler_live | op_block::timer_wait;
  op->deadline_ns_ = deadline_ns;
  if (running_in_this_thread() && !shutting_down_) {
    heap_push(op);
    return;
  }
  op->state_ |= op_block::queued;
  post(op);
}

// ---- timer heap -----------------------------------------------------------------------------

namespace {
std::int64_t steady_now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
} // namespace

void scheduler::heap_sift(std::size_t i) {
  auto& h = timer_heap_;
  auto place = [&](std::size_t at, op_block* op) {
    h[at] = op;
    op->heap_index_ = static_cast<std::uint32_t>(at);
  };
  op_block* op = h[i];
  while (i > 0 && h[(i - 1) / 2]->deadline_ns_ > op->deadline_ns_) {
    place(i, h[(i - 1) / 2]);
    i = (i - 1) / 2;
  }
  for (;;) {
    std::size_t c = 2 * i + 1;
    if (c >= h.size())
      break;
    if (c + 1 < h.size() && h[c + 1]->deadline_ns_ < h[c]->deadline_ns_)
      ++c;
    if (h[c]->deadline_ns_ >= op->deadline_ns_)
      break;
    place(i, h[c]);
    i = c;
  }
  place(i, op);
}

void scheduler::heap_push(op_block* op) {
  timer_heap_.push_back(op);
  heap_sift(timer_heap_.size() - 1);
  if (timer_heap_.front() == op)
    arm_timer_timeout();
}

void scheduler::heap_remove(op_block* op) {
  std::size_t i = op->heap_index_;
  op_block* last = timer_heap_.back();
  timer_heap_.pop_back();
  if (last != op) {
    timer_heap_[i] = last;
    last->heap_index_ = static_cast<std::uint32_t>(i);
    heap_sift(i);
  }
}

// Arms (or moves earlier) the one kernel timeout that wakes the loop for the earliest wait.
void scheduler::arm_timer_timeout() {
  if (timer_heap_.empty())
    return;
  std::int64_t d = timer_heap_.front()->deadline_ns_;
  if (timeout_armed_ && armed_deadline_ <= d)
    return;
  ring_state& r = *ring_;
  // The kernel reads the timespec when it consumes the SQE, at the next io_uring_enter: it
  // lives in ring_state, never on this stack (PITFALLS 13). Pending SQEs that share it only
  // ever move the deadline earlier, which is what each of them wants.
  __kernel_timespec& ts = r.timer_ts;
  ts = d < 0 ? __kernel_timespec{0, 0} : __kernel_timespec{d / 1'000'000'000, d % 1'000'000'000};
  io_uring_sqe* sqe = r.get_sqe();
  constexpr std::uint64_t timer_ud = static_cast<std::uint64_t>(cqe_tag::timer);
  if (timeout_armed_) {
    io_uring_prep_timeout_update(sqe, &ts, timer_ud, IORING_TIMEOUT_ABS);
    sqe->user_data = internal_user_data;
  } else {
    io_uring_prep_timeout(sqe, &ts, 0, IORING_TIMEOUT_ABS);
    sqe->user_data = timer_ud;
    timeout_armed_ = true;
  }
  ++r.in_kernel;
  armed_deadline_ = d;
}

// The kernel timeout fired: queue every due wait's completion, then re-arm for the next.
void scheduler::fire_due_timers() {
  timers_due_ = false;
  std::int64_t now = steady_now_ns();
  while (!timer_heap_.empty() && timer_heap_.front()->deadline_ns_ <= now) {
    op_block* op = timer_heap_.front();
    heap_remove(op);
    op->state_ |= op_block::immediate | op_block::queued;
    op->immediate_res_ = 0;
    local_.push(op);
  }
  arm_timer_timeout();
}

void scheduler::complete_immediately(op_block* op, int res) noexcept {
  op->state_ |= op_block::handler_live | op_block::immediate | op_block::queued;
  op->immediate_res_ = res;
  post(op);
}

static_assert(sizeof(op_block::kernel_timespec) == sizeof(__kernel_timespec));

void scheduler::do_start(op_block* op) {
  if (op->parking_) { // no SQE of its own: a multishot source or signal set completes it
    op->state_ |= op_block::parked;
    op->live_prev_ = nullptr;
    op->live_next_ = parked_;
    if (parked_)
      parked_->live_prev_ = op;
    parked_ = op;
    op->parking_->park(*this, op);
    return;
  }
  if (op->sock_) { // one op per direction of a stream in the kernel; the rest wait in order
    direction_gate& g = op->sock_->gates[(op->state_ & op_block::gate_send) ? 1 : 0];
    if (g.active && g.active != op) {
      op->state_ |= op_block::gated;
      g.waiting.push(op);
      return;
    }
    g.active = op;
  }
  ring_state& r = *ring_;
  const bool linked = op->state_ & op_block::link_timeout;
  if (linked)
    r.reserve_sqes(2);
  io_uring_sqe* sqe = r.get_sqe();
  const sqe_args& a = op->sqe_;
  io_uring_prep_rw(a.opcode, sqe, a.fd, reinterpret_cast<const void*>(a.addr), a.len, a.off);
  sqe->rw_flags = static_cast<__kernel_rwf_t>(a.op_flags);
  sqe->flags = a.sqe_flags;
  sqe->ioprio = a.ioprio;
  sqe->buf_index = a.buf_index;
  sqe->user_data = user_data(op, cqe_tag::op);
  op->state_ |= op_block::in_kernel;
  ++r.in_kernel;
  invariant::on_submit(op);
  if (linked) { // the kernel cancels the op at the deadline; the timeout's CQE is its own
    sqe->flags |= IOSQE_IO_LINK;
    io_uring_sqe* t = r.get_sqe();
    io_uring_prep_link_timeout(t, reinterpret_cast<__kernel_timespec*>(&op->link_ts_),
                               IORING_TIMEOUT_ABS);
    t->user_data = user_data(op, cqe_tag::link_timeout);
    ++op->cancels_in_flight_;
    ++r.in_kernel;
  }
  op->live_prev_ = nullptr;
  op->live_next_ = live_;
  if (live_)
    live_->live_prev_ = op;
  live_ = op;
  if (options_.submit == submit_policy::immediate)
    io_uring_submit(&r.ring);
}

void scheduler::cancel(op_block* op, boost::asio::cancellation_type_t type) noexcept {
  if (running_in_this_thread()) {
    do_cancel(op, type);
    return;
  }
  // Emitted elsewhere (e.g. before the context runs): the running thread submits the cancel.
  op->cancel_request_.type_ |= type;
  if (!(op->state_ & op_block::cancel_queued)) {
    op->state_ |= op_block::cancel_queued;
    op->cancel_request_.op_ = op;
    op->cancel_request_.scheduler_ = this;
    post(&op->cancel_request_);
  }
}

void scheduler::do_cancel(op_block* op, boost::asio::cancellation_type_t type) {
  if (!(op->state_ & op_block::handler_live) || (op->state_ & op_block::final_cqe))
    return; // completed already: the real result stands
  op->cancel_type_ |= type;
  if (op->state_ & op_block::queued) {
    op->state_ |= op_block::cancel_before_start;
    return;
  }
  if (op->state_ & op_block::parked) {
    op->parking_->unpark(*this, op);
    complete_parked_later(op, -ECANCELED, 0);
    return;
  }
  if (op->state_ & op_block::gated) { // waits behind its stream's op: leaves the line
    direction_gate& g = op->sock_->gates[(op->state_ & op_block::gate_send) ? 1 : 0];
    op_queue<scheduler_operation> keep;
    while (scheduler_operation* w = g.waiting.pop())
      if (w != op)
        keep.push(w);
    g.waiting.splice(keep);
    op->state_ &= ~op_block::gated;
    complete_parked_later(op, -ECANCELED, 0);
    return;
  }
  if (op->state_ & op_block::timer_wait) { // in the heap: complete aborted, never inline
    heap_remove(op);
    op->state_ |= op_block::immediate | op_block::queued;
    op->immediate_res_ = -ECANCELED;
    local_.push(op);
    return;
  }
  if (!(op->state_ & op_block::in_kernel))
    return;
  ring_state& r = *ring_;
  io_uring_sqe* sqe = r.get_sqe();
  io_uring_prep_cancel64(sqe, user_data(op, cqe_tag::op), 0);
  sqe->user_data = user_data(op, cqe_tag::cancel); // PITFALLS 10: always set
  ++op->cancels_in_flight_;
  ++r.in_kernel;
}

void scheduler::cancel_fd(int fd, bool close_after, socket_state* sock) noexcept {
  cancel_fd(fd, close_after, close_after, sock);
}

// `close_fd`: close this fd number afterwards; `detach`: the socket lets go of its state.
void scheduler::cancel_fd(int fd, bool close_fd, bool detach, socket_state* sock) noexcept {
  const bool close_after = close_fd;
  struct sock_ref { // the reference the caller handed over
    socket_state* p;
    ~sock_ref() {
      if (p)
        p->release();
    }
  } sock_guard{sock};
  if (fd < 0)
    return;
  auto cancel_queued_ops = [fd](op_queue<scheduler_operation>& q) {
    q.for_each([&](scheduler_operation* item) {
      if (item->is(&op_block::do_queued)) {
        auto* op = static_cast<op_block*>(item);
        if (op->sqe_.fd == fd && !(op->state_ & op_block::immediate))
          op->state_ |= op_block::cancel_before_start;
      }
    });
  };
  if (!running_in_this_thread() && !ever_ran_.load(std::memory_order_acquire)) {
    // Nothing was ever in the kernel: ops queued for this fd complete aborted without
    // starting, and the fd closes now (so synchronous use before run() behaves as in Asio).
    std::lock_guard<std::mutex> lock(remote_mutex_);
    cancel_queued_ops(remote_);
    if (sock && detach && sock->source)
      std::exchange(sock->source, nullptr)->abandon(); // never armed: freed now
    if (close_after)
      ::close(fd);
    return; // nothing was started: gates are empty, no one is parked
  }
  if (!running_in_this_thread() || shutting_down_) {
    // Queued behind every op already queued for this fd (FIFO), so those are started, then
    // cancelled. The request closes its fd: the object's own one for close(), else a dup that
    // names the same file even if the caller closes its fd first (release()).
    struct fd_request final : scheduler_operation {
      fd_request(int f, bool c, socket_state* s)
          : scheduler_operation(&run), fd(f), closing(c), sock(s) {}
      static void run(scheduler* owner, scheduler_operation* base) {
        auto* self = static_cast<fd_request*>(base);
        int fd = self->fd;
        bool closing = self->closing;
        socket_state* sock = self->sock;
        delete self;
        if (owner) {
          owner->last_was_internal_ = true;
          owner->cancel_fd(fd, true, closing, sock); // a dup when only cancelling: closed too
        } else {
          ::close(fd);
          if (sock)
            sock->release();
        }
      }
      int fd;
      bool closing;
      socket_state* sock;
    };
    int target = close_after ? fd : ::dup(fd);
    if (target >= 0)
      post(new fd_request(target, close_after, std::exchange(sock_guard.p, nullptr)));
    return;
  }
  // Ops for this fd that other threads queued and that have not started must not start later.
  {
    std::lock_guard<std::mutex> lock(remote_mutex_);
    local_.splice(remote_);
    remote_nonempty_.store(false, std::memory_order_relaxed);
  }
  cancel_queued_ops(local_);
  if (sock) {
    abort_gate(sock->gates[0], false);
    abort_gate(sock->gates[1], false);
    if (multishot_source* src = sock->source) {
      if (detach)
        sock->source = nullptr; // it frees itself once the kernel is done with it
      src->cancel_waiters(*this, detach);
    }
  }
  ring_state& r = *ring_;
  io_uring_sqe* sqe = r.get_sqe();
  io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL);
  sqe->user_data = internal_user_data;
  ++r.in_kernel;
  // Submit now: the kernel resolves the fd when it takes the SQE, so the cancel must go in
  // before close() (or the caller, after release()) lets the number be reused.
  io_uring_submit(&r.ring);
  if (close_after)
    ::close(fd);
}

void scheduler::release_block(op_block* op) noexcept {
  if ((op->state_ & (op_block::final_cqe | op_block::handler_live | op_block::cancel_queued |
                     op_block::queued | op_block::in_kernel)) == op_block::final_cqe &&
      op->cancels_in_flight_ == 0)
    free_block(op);
}

void scheduler::free_block(op_block* op) noexcept {
  if (op->live_prev_)
    op->live_prev_->live_next_ = op->live_next_;
  else if (live_ == op)
    live_ = op->live_next_;
  if (op->live_next_)
    op->live_next_->live_prev_ = op->live_prev_;
  invariant::on_free(op);
  socket_state* sock = op->sock_;
  op->vtbl_->destroy(op, this);
  if (sock)
    sock->release();
}

void scheduler::unlink_parked(op_block* op) noexcept {
  if (op->live_prev_)
    op->live_prev_->live_next_ = op->live_next_;
  else
    parked_ = op->live_next_;
  if (op->live_next_)
    op->live_next_->live_prev_ = op->live_prev_;
  op->live_prev_ = op->live_next_ = nullptr;
  op->state_ &= ~op_block::parked;
}

void scheduler::complete_parked(op_block* op, int res, unsigned flags, bool& invoked) {
  if (op->state_ & op_block::parked)
    unlink_parked(op);
  op->state_ =
      static_cast<std::uint16_t>((op->state_ & ~op_block::handler_live) | op_block::final_cqe);
  op->vtbl_->complete(op, *this, res, flags, invoked);
}

void scheduler::complete_parked_later(op_block* op, int res, unsigned flags) noexcept {
  if (op->state_ & op_block::parked)
    unlink_parked(op);
  op->state_ |= op_block::immediate | op_block::queued | op_block::carries_result;
  op->immediate_res_ = res;
  op->immediate_flags_ = flags;
  local_.push(op);
}

// An op that never reached the kernel, at shutdown: its handler is destroyed, never invoked.
void scheduler::destroy_unstarted(op_block* op) noexcept {
  op->state_ = static_cast<std::uint16_t>(
      (op->state_ & ~(op_block::handler_live | op_block::gated | op_block::parked)) |
      op_block::final_cqe);
  op->vtbl_->destroy_handler(op);
  release_block(op);
}

// `finished` left the kernel: the next op queued in its direction goes in.
void scheduler::advance_gate(op_block* finished) {
  direction_gate& g = finished->sock_->gates[(finished->state_ & op_block::gate_send) ? 1 : 0];
  if (g.active != finished)
    return;
  g.active = nullptr;
  if (shutting_down_) {
    abort_gate(g, true);
    return;
  }
  while (scheduler_operation* w = g.waiting.pop()) {
    auto* next = static_cast<op_block*>(w);
    next->state_ &= ~op_block::gated;
    if (next->state_ & op_block::cancel_before_start) {
      complete_parked_later(next, -ECANCELED, 0);
      continue;
    }
    do_start(next);
    return;
  }
}

// The ops waiting in a direction complete with operation_aborted (or, at shutdown, are
// destroyed): none of them reached the kernel.
void scheduler::abort_gate(direction_gate& g, bool destroy) noexcept {
  while (scheduler_operation* w = g.waiting.pop()) {
    auto* op = static_cast<op_block*>(w);
    op->state_ &= ~op_block::gated;
    if (destroy)
      destroy_unstarted(op);
    else
      complete_parked_later(op, -ECANCELED, 0);
  }
}

bool scheduler::supports(unsigned opcode) const noexcept {
  return ring_->supports(opcode);
}

// ---- CQEs -----------------------------------------------------------------------------------

void scheduler::handle_cqe(std::uint64_t ud, int res, unsigned flags, bool& invoked) {
  ring_state& r = *ring_;
  if (ud == LIBURING_UDATA_TIMEOUT)
    return;
  auto tag = static_cast<cqe_tag>(ud & cqe_tag_mask);
  auto* op = reinterpret_cast<op_block*>(ud & ~cqe_tag_mask);
  switch (tag) {
  case cqe_tag::op:
    if (flags & IORING_CQE_F_MORE) { // one of several CQEs (multishot, SEND_ZC's result)
      if (shutting_down_ || !(op->state_ & op_block::handler_live)) {
        if (op->vtbl_->discard)
          op->vtbl_->discard(op, res, flags);
      } else if (op->vtbl_->more) {
        op->vtbl_->more(op, *this, res, flags, invoked);
      }
      return;
    }
    --r.in_kernel;
    invariant::on_final_cqe(op);
    op->state_ =
        static_cast<std::uint16_t>((op->state_ & ~op_block::in_kernel) | op_block::final_cqe);
    if (op->sock_)
      advance_gate(op); // before the handler: queued sends stay ahead of the ones it starts
    if ((op->state_ & op_block::handler_live) && !shutting_down_) {
      op->state_ &= ~op_block::handler_live;
      op->vtbl_->complete(op, *this, res, flags, invoked); // releases the block, then upcalls
      return;
    }
    if (op->state_ & op_block::handler_live) {
      op->state_ &= ~op_block::handler_live;
      op->vtbl_->destroy_handler(op);
    }
    if (op->vtbl_->discard) // no handler will see it: an accepted fd is closed, a buffer returned
      op->vtbl_->discard(op, res, flags);
    release_block(op); // orphaned: the buffer dies now, after the final CQE
    return;
  case cqe_tag::cancel:
    --r.in_kernel;
    --op->cancels_in_flight_;
    // Terminal cancellation never waits on I/O the kernel cannot interrupt (DESIGN.md).
    if (res == -EALREADY &&
        (op->cancel_type_ & boost::asio::cancellation_type::terminal) !=
            boost::asio::cancellation_type::none &&
        (op->state_ & op_block::owned) && (op->state_ & op_block::handler_live) &&
        !shutting_down_) {
      op->state_ &= ~op_block::handler_live;
      invoked = true;
      op->vtbl_->orphan(op, *this);
    }
    release_block(op);
    return;
  case cqe_tag::link_timeout: // -ETIME (it fired), -ECANCELED (the op finished first) or
                              // -EALREADY: the op's own CQE carries the op's result (PITFALLS 19)
    --r.in_kernel;
    --op->cancels_in_flight_;
    release_block(op);
    return;
  case cqe_tag::wake:
    --r.in_kernel;
    r.wake_armed = false;
    return;
  case cqe_tag::timer:
    --r.in_kernel;
    timeout_armed_ = false;
    timers_due_ = true;
    return;
  default:
    --r.in_kernel;
    return;
  }
}

// ---- running --------------------------------------------------------------------------------

class scheduler::run_guard {
public:
  explicit run_guard(scheduler& s) : s_(s) {
    nested_ = s.running_in_this_thread();
    if (!nested_) {
      bool expected = false;
      if (!s.running_.compare_exchange_strong(expected, true, std::memory_order_acq_rel))
        throw boost::system::system_error(
            boost::system::error_code(EBUSY, boost::system::system_category()),
            "asio_uring::io_context: run/poll called while another thread is running this "
            "context (one thread runs an io_context at a time; use io_context_pool for more)");
      try {
        s.bind_owner();
      } catch (...) {
        s.running_.store(false, std::memory_order_release);
        throw;
      }
    }
    frame_ = {&s, top_frame};
    top_frame = &frame_;
  }
  ~run_guard() {
    top_frame = frame_.prev;
    if (!nested_)
      s_.running_.store(false, std::memory_order_release);
  }

private:
  scheduler& s_;
  bool nested_;
  run_frame frame_{};
  asio_thread_hook hook_;
};

std::size_t scheduler::kernel_outstanding() const noexcept {
  const ring_state& r = *ring_;
  return r.in_kernel - (r.stash.size() - r.stash_pos);
}

void scheduler::bind_owner() {
  std::lock_guard<std::mutex> lock(owner_mutex);
  ring_state& r = *ring_;
  std::thread::id before = r.owner;
  bool idle = kernel_outstanding() <= (r.wake_armed ? 1u : 0u);
  unsigned generation = r.generation;
  r.bind_to_this_thread(idle);
  ever_ran_.store(true, std::memory_order_release);
  if (fixed_table_ && r.generation != generation) { // a fresh ring: register the table again
    if (io_uring_register_buffers_sparse(&r.ring, fixed_table_size) < 0)
      fixed_table_ = false;
    for (const fixed_range& f : fixed_ranges_)
      update_fixed(r.ring, f.first, f.base, f.buffer_size, f.n);
  }
  if (r.generation != generation) { // the old ring's kernel timeout went with it
    timeout_armed_ = false;
    timers_due_ = !timer_heap_.empty();
  }
  // Only a single-issuer ring is bound to its thread and needs the exit drain.
  if ((r.setup_flags & IORING_SETUP_SINGLE_ISSUER) && (r.owner != before || !owner_list_)) {
    if (owner_list_)
      std::erase(owner_list_->list, this);
    owner_list_ = &this_thread_rings;
    owner_list_->list.push_back(this);
  }
}

// On the owning thread as it exits: cancel what is in flight and keep the CQEs in the stash;
// the next run (on any thread, with a fresh ring) or the shutdown handles them.
void scheduler::drain_at_owner_exit() noexcept {
  bool expected = false;
  if (!running_.compare_exchange_strong(expected, true))
    return;
  try {
    drain(true);
  } catch (...) {
  }
  // The thread is gone: its id may be reused by a new thread, which must not pass for the owner.
  // The next runner gets a fresh ring if this one is idle, a clear error if not.
  ring_->owner = std::thread::id();
  running_.store(false, std::memory_order_release);
}

std::size_t scheduler::run() {
  run_guard guard(*this);
  if (outstanding_work_.load(std::memory_order_acquire) == 0) {
    stop();
    return 0;
  }
  std::size_t n = 0;
  while (do_one(-1))
    if (n != static_cast<std::size_t>(-1))
      ++n;
  return n;
}

std::size_t scheduler::run_one() {
  run_guard guard(*this);
  return do_one(-1);
}

std::size_t scheduler::wait_one(long usec) {
  run_guard guard(*this);
  return do_one(usec);
}

std::size_t scheduler::poll() {
  run_guard guard(*this);
  std::size_t n = 0;
  while (do_one(0))
    if (n != static_cast<std::size_t>(-1))
      ++n;
  return n;
}

std::size_t scheduler::poll_one() {
  run_guard guard(*this);
  return do_one(0);
}

void scheduler::rethrow_pending() {
  if (pending_exception_) {
    std::exception_ptr e = std::move(pending_exception_);
    pending_exception_ = nullptr;
    std::rethrow_exception(e);
  }
}

// Takes CQEs (stashed ones first) until one invokes a handler or none are left.
bool scheduler::reap_one() {
  ring_state& r = *ring_;
  bool invoked = false;
  while (r.stash_pos < r.stash.size()) {
    io_uring_cqe c = r.stash[r.stash_pos++];
    if (r.stash_pos == r.stash.size()) {
      r.stash.clear();
      r.stash_pos = 0;
    }
    handle_cqe(c.user_data, c.res, c.flags, invoked);
    if (invoked)
      return true;
  }
  io_uring_cqe* cqe;
  // Look at the CQ's indices inline first: an empty CQ costs no call into liburing.
  while (r.cq_may_have_cqes() && io_uring_peek_cqe(&r.ring, &cqe) == 0) {
    std::uint64_t ud = cqe->user_data;
    int res = cqe->res;
    unsigned flags = cqe->flags;
    io_uring_cqe_seen(&r.ring, cqe); // consumed before any upcall (PITFALLS 12)
    handle_cqe(ud, res, flags, invoked);
    if (invoked)
      return true;
  }
  return false;
}

// One io_uring_enter: submits what is prepared and, if `usec` != 0, waits for a completion.
void scheduler::enter(long usec) {
  ring_state& r = *ring_;
  if (!r.wake_armed) {
    // Reset the counter, then poll it again (a poll holds no user memory, so nothing is at risk
    // if the ring is torn down with it armed). A post that raced the reset is seen below.
    eventfd_t ignored;
    (void)::eventfd_read(r.wake_fd, &ignored);
    io_uring_sqe* sqe = r.get_sqe();
    io_uring_prep_poll_add(sqe, r.wake_fd, POLLIN);
    sqe->user_data = wake_user_data;
    r.wake_armed = true;
    ++r.in_kernel;
  }
  if (r.stash_pos < r.stash.size())
    usec = 0; // completions already taken aside must be handled first
  if (usec != 0) {
    // Announce the sleep, then look once more: a post either sees sleeping_ and wakes us, or
    // happened before and is seen here (seq_cst on both sides).
    sleeping_.store(true, std::memory_order_seq_cst);
    if (remote_nonempty_.load(std::memory_order_seq_cst) ||
        stopped_.load(std::memory_order_seq_cst))
      usec = 0;
  }
  int rc;
  if (usec == 0) {
    bool need =
        r.has_pending_sqes() || (r.setup_flags & IORING_SETUP_DEFER_TASKRUN) ||
        (IO_URING_READ_ONCE(*r.ring.sq.kflags) & (IORING_SQ_CQ_OVERFLOW | IORING_SQ_TASKRUN));
    rc = need ? io_uring_submit_and_get_events(&r.ring) : 0;
  } else if (usec < 0) {
    rc = io_uring_submit_and_wait(&r.ring, 1);
  } else {
    __kernel_timespec ts{usec / 1000000, (usec % 1000000) * 1000};
    io_uring_cqe* cqe = nullptr;
    rc = io_uring_submit_and_wait_timeout(&r.ring, &cqe, 1, &ts, nullptr);
  }
  sleeping_.store(false, std::memory_order_relaxed);
  if (rc == -EBUSY || rc == -EAGAIN) {
    r.stash_cqes();
  } else if (rc < 0 && rc != -EINTR && rc != -ETIME) {
    throw boost::system::system_error(
        boost::system::error_code(-rc, boost::system::system_category()),
        "asio_uring: io_uring_enter");
  }
  handlers_since_enter_ = 0;
}

std::size_t scheduler::do_one(long usec) {
  // After this many handlers without a syscall, submit and collect anyway, so a busy queue
  // cannot starve the ring.
  constexpr std::size_t fairness_budget = 64;
  std::chrono::steady_clock::time_point deadline{};
  if (usec > 0)
    deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(usec);
  bool entered = false;
  for (;;) {
    if (stopped_.load(std::memory_order_acquire))
      return 0;
    if (handlers_since_enter_ >= fairness_budget) {
      const ring_state& r = *ring_;
      if (r.has_pending_sqes() || kernel_outstanding() > (r.wake_armed ? 1u : 0u))
        enter(0);
      else
        handlers_since_enter_ = 0; // nothing in the kernel to collect
    }
    if (reap_one()) {
      ++handlers_since_enter_;
      rethrow_pending();
      return 1;
    }
    if (timers_due_) // the heap's kernel timeout fired: due waits join the local queue
      fire_due_timers();
    if (remote_nonempty_.load(std::memory_order_acquire)) { // before local work: no starvation
      std::lock_guard<std::mutex> lock(remote_mutex_);
      local_.splice(remote_);
      remote_nonempty_.store(false, std::memory_order_relaxed);
    }
    if (scheduler_operation* op = local_.pop()) {
      last_was_internal_ = false;
      op->complete(*this);
      if (last_was_internal_)
        continue;
      ++handlers_since_enter_;
      rethrow_pending();
      return 1;
    }
    if (outstanding_work_.load(std::memory_order_acquire) == 0) {
      stop();
      return 0;
    }
    long wait = usec;
    if (entered) {
      if (usec == 0)
        return 0;
      if (usec > 0) {
        auto left = std::chrono::duration_cast<std::chrono::microseconds>(
                        deadline - std::chrono::steady_clock::now())
                        .count();
        if (left <= 0)
          return 0;
        wait = static_cast<long>(left);
      }
    }
    enter(wait);
    entered = true;
  }
}

// ---- shutdown -------------------------------------------------------------------------------

// Cancels everything in the kernel and collects CQEs until none is due or the bound passes.
// While shutting down they are handled (handlers destroyed); otherwise stashed for later.
void scheduler::drain(bool may_submit) {
  ring_state& r = *ring_;
  if (kernel_outstanding() == 0)
    return;
  if (may_submit) {
    io_uring_sqe* sqe = r.get_sqe();
    io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
    sqe->user_data = internal_user_data;
    ++r.in_kernel;
  }
  // Without the right to submit (another live thread owns the ring) nothing can be cancelled:
  // wait only while operations of ours might still complete by themselves; whatever has not
  // reported back by the deadline is abandoned (docs/design.md).
  auto due = [&] { return may_submit ? kernel_outstanding() > 0 : live_ != nullptr; };
  auto deadline = std::chrono::steady_clock::now() + options_.drain_timeout;
  while (due() && std::chrono::steady_clock::now() < deadline) {
    if (may_submit) {
      __kernel_timespec ts{0, 10'000'000};
      io_uring_cqe* cqe = nullptr;
      io_uring_submit_and_wait_timeout(&r.ring, &cqe, 1, &ts, nullptr);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (shutting_down_)
      handle_cqes_at_shutdown();
    else
      r.stash_cqes();
  }
}

// Every CQE taken so far (stash first, then the CQ): handlers are destroyed, never invoked.
void scheduler::handle_cqes_at_shutdown() {
  ring_state& r = *ring_;
  r.stash_cqes();
  bool ignored = false;
  for (; r.stash_pos < r.stash.size(); ++r.stash_pos) {
    const io_uring_cqe& c = r.stash[r.stash_pos];
    handle_cqe(c.user_data, c.res, c.flags, ignored);
  }
  r.stash.clear();
  r.stash_pos = 0;
}

void scheduler::shutdown() {
  // Called twice after io_context::shutdown(): the second time (the destructor) only destroys
  // what was queued since, e.g. the close requests of objects destroyed in between.
  const bool again = shutting_down_;
  {
    // Detach from the owning thread's exit hook. Taking the lock also waits for an exit drain
    // already under way; it is not held below, where destroying handlers may run anything.
    std::lock_guard<std::mutex> lock(owner_mutex);
    if (owner_list_) {
      std::erase(owner_list_->list, this);
      owner_list_ = nullptr;
    }
  }
  alive_.reset(); // buffer pools outliving the context stop calling into it
  shutting_down_ = true;
  stopped_.store(true, std::memory_order_release);
  ring_state& r = *ring_;
  const bool may_submit = !r.enabled || !(r.setup_flags & IORING_SETUP_SINGLE_ISSUER) ||
                          r.owner == std::this_thread::get_id();
  // Cancel everything, then drain the CQEs before any handler (and so any frame holding a
  // borrowed buffer) is destroyed. Handlers met on the way are destroyed, never invoked.
  if (!again) {
    drain(may_submit);
    handle_cqes_at_shutdown(); // including those collected when the owner thread exited
  }
  // Whatever the kernel still holds is leaked on purpose, handler included: it may own the
  // memory the kernel writes (a coroutine frame with a borrowed buffer).
  for (op_block* op = live_; op;) {
    op_block* next = op->live_next_;
    if ((op->state_ & op_block::in_kernel) || op->cancels_in_flight_) {
      if (op->sock_) { // what waits behind it never reached the kernel
        direction_gate& g = op->sock_->gates[(op->state_ & op_block::gate_send) ? 1 : 0];
        if (g.active == op)
          abort_gate(g, true);
      }
      ++abandoned_;
#if defined(__SANITIZE_ADDRESS__)
      __lsan_ignore_object(op); // leaked on purpose, with what it holds: not a leak report
#endif
      if (op->live_prev_)
        op->live_prev_->live_next_ = next;
      else
        live_ = next;
      if (next)
        next->live_prev_ = op->live_prev_;
    }
    op = next;
  }
  // Parked ops (waiting on a multishot source or a signal) hold no kernel memory either.
  while (op_block* op = parked_) {
    unlink_parked(op);
    op->parking_->unpark(*this, op);
    destroy_unstarted(op);
  }
  // Timer waits in the heap hold no kernel memory: destroy them.
  for (op_block* op : std::exchange(timer_heap_, {})) {
    op->state_ &= ~op_block::handler_live;
    op->vtbl_->destroy_handler(op);
    op->state_ |= op_block::final_cqe;
    release_block(op);
  }
  // Destroy (never run) what is queued; destroying may queue more (coroutine frames).
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(remote_mutex_);
      local_.splice(remote_);
      remote_nonempty_.store(false, std::memory_order_relaxed);
    }
    scheduler_operation* op = local_.pop();
    if (!op)
      break;
    op->destroy();
  }
}

// ---- test access: the state machine on a ring the kernel never sees -------------------------

scheduler_probe::scheduler_probe(scheduler& s) : s_(s), frame_(nullptr) {
  ring_state& r = *s.ring_;
  if (r.enabled || s.ever_ran_.load() || s.running_.load())
    throw std::logic_error("scheduler_probe: the context must never have run");
  cursor_ = r.ring.sq.sqe_tail;
  frame_ = new run_frame{&s, top_frame};
  top_frame = static_cast<run_frame*>(frame_);
}

scheduler_probe::~scheduler_probe() {
  auto* f = static_cast<run_frame*>(frame_);
  top_frame = f->prev;
  delete f;
}

std::vector<scheduler_probe::prepared_sqe> scheduler_probe::take_prepared() {
  io_uring& ring = s_.ring_->ring;
  std::vector<prepared_sqe> out;
  for (; cursor_ != ring.sq.sqe_tail; ++cursor_) {
    const io_uring_sqe& sqe = ring.sq.sqes[cursor_ & *ring.sq.kring_mask];
    out.push_back({sqe.user_data, sqe.opcode, sqe.flags, sqe.addr, sqe.timeout_flags});
  }
  return out;
}

void scheduler_probe::deliver(std::uint64_t user_data, int res, unsigned flags) {
  bool invoked = false;
  s_.handle_cqe(user_data, res, flags, invoked);
  run_queued();
}

void scheduler_probe::run_queued() {
  while (scheduler_operation* op = s_.local_.pop())
    op->complete(s_);
}

void scheduler_probe::arrives_during_shutdown(std::uint64_t user_data, int res, unsigned flags) {
  io_uring_cqe c{};
  c.user_data = user_data;
  c.res = res;
  c.flags = flags;
  s_.ring_->stash.push_back(c);
}

std::size_t scheduler_probe::shutdown() {
  s_.shutdown();
  return s_.abandoned_;
}

std::size_t scheduler_probe::blocks_started_not_freed() const noexcept {
  std::size_t n = 0;
  for (op_block* op = s_.live_; op; op = op->live_next_)
    ++n;
  return n;
}

} // namespace asio_uring::detail
