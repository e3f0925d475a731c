// Multishot recv/accept per socket: CQEs go to waiting operations in order, or are kept.
#include "multishot_source.hpp"

#include <asio_uring/detail/socket_state.hpp>

#include <liburing.h>

#include <cerrno>
#include <sys/socket.h>
#include <unistd.h>

namespace asio_uring::detail {

void socket_state::destroy(socket_state* s) noexcept {
  if (s->source)
    s->source->abandon();
  delete s;
}

op_parking* receive_source(scheduler& s, socket_state& st, int fd,
                           const std::shared_ptr<buffer_ring_state>& ring) {
  if (!st.source)
    st.source = new multishot_source(s, multishot_source::kind::receive, fd, ring);
  else if (st.source->source_kind() != multishot_source::kind::receive || st.source->ring() != ring)
    return nullptr;
  return st.source;
}

op_parking* accept_source(scheduler& s, socket_state& st, int fd) {
  if (!st.source)
    st.source = new multishot_source(s, multishot_source::kind::accept, fd, nullptr);
  return st.source;
}

multishot_source::multishot_source(scheduler& s, kind k, int fd,
                                   std::shared_ptr<buffer_ring_state> ring)
    : op_block(&table, sizeof(multishot_source)), kind_(k), multishot_(s.options().multishot),
      fd_(fd), ring_(std::move(ring)) {}

multishot_source::~multishot_source() {
  if (starved_) // whichever way it goes (close, socket destroyed, last CQE), not left listed
    ring_->remove_starved(this);
  for (; head_ < results_.size(); ++head_)
    discard_result(results_[head_].res, results_[head_].flags);
}

void multishot_source::discard_result(int res, unsigned flags) noexcept {
  if (kind_ == kind::accept) {
    if (res >= 0)
      ::close(res);
  } else if (flags & IORING_CQE_F_BUFFER) {
    ring_->give_back(static_cast<std::uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT));
  }
}

bool multishot_source::want_arm() const noexcept {
  if (detached_ || busy_ || waiters_.empty() || head_ < results_.size())
    return false;
  return !starved_ || ring_->handed_out.load() < ring_->count;
}

void multishot_source::arm(scheduler& s) {
  if (starved_) {
    starved_ = false;
    ring_->remove_starved(this);
  }
  sqe_ = {};
  sqe_.fd = fd_;
  if (kind_ == kind::receive) {
    sqe_.opcode = IORING_OP_RECV;
    sqe_.sqe_flags = IOSQE_BUFFER_SELECT;
    sqe_.buf_index = ring_->group_id;
    sqe_.ioprio = multishot_ ? IORING_RECV_MULTISHOT : 0;
  } else {
    sqe_.opcode = IORING_OP_ACCEPT;
    sqe_.op_flags = SOCK_CLOEXEC; // blocking: io_uring waits itself (PITFALLS 15)
    sqe_.ioprio = multishot_ ? IORING_ACCEPT_MULTISHOT : 0;
  }
  busy_ = true;
  state_ = handler_live;
  s.submit_now(this);
}

void multishot_source::park(scheduler& s, op_block* op) {
  if (head_ < results_.size()) { // a result is waiting: complete (never inside the initiation)
    result r = results_[head_++];
    if (head_ == results_.size()) {
      results_.clear();
      head_ = 0;
    }
    s.complete_parked_later(op, r.res, r.flags);
    if (want_arm() || (kind_ == kind::accept && !busy_ && results_.empty()))
      arm(s);
    return;
  }
  waiters_.push(op);
  if (want_arm())
    arm(s);
}

void multishot_source::unpark(scheduler&, op_block* op) noexcept {
  op_queue<scheduler_operation> keep;
  while (scheduler_operation* w = waiters_.pop())
    if (w != op)
      keep.push(w);
  waiters_.splice(keep);
}

void multishot_source::cancel_waiters(scheduler& s, bool closing) noexcept {
  if (closing)
    detached_ = true;
  while (scheduler_operation* w = waiters_.pop())
    s.complete_parked_later(static_cast<op_block*>(w), -ECANCELED, 0);
  if (closing) {
    // Kept results go back now (buffers to the ring other sockets share, accepted fds closed),
    // not when the kernel's last CQE for this source comes.
    for (; head_ < results_.size(); ++head_)
      discard_result(results_[head_].res, results_[head_].flags);
    results_.clear();
    head_ = 0;
    if (starved_)
      ring_->remove_starved(this);
    starved_ = false;
    if (!busy_)
      delete this;
  }
}

void multishot_source::abandon() noexcept {
  detached_ = true;
  if (!busy_)
    delete this; // not in the kernel: nothing can write to it
  // else: the kernel still holds it (an abandoned op at shutdown); leaked on purpose
}

void multishot_source::buffers_returned(scheduler& s) {
  if (want_arm())
    arm(s);
}

void multishot_source::deliver(scheduler& s, int res, unsigned flags, bool final, bool& invoked) {
  if (flags & IORING_CQE_F_BUFFER)
    ring_->handed_out.fetch_add(1, std::memory_order_relaxed);
  if (final && res == -ENOBUFS) { // the ring ran dry: wait for buffers, report nothing
    if (detached_)
      return; // closed: it is freed with this CQE, never re-armed
    starved_ = true;
    ring_->add_starved(this);
    return;
  }
  if (final && res == -EINVAL && multishot_) { // the kernel has no multishot for this op
    multishot_ = false;
    return;
  }
  if (final && res == -ECANCELED) // cancel(), close(), or a paused accept: not a result
    return;
  if (scheduler_operation* w = waiters_.pop()) {
    s.complete_parked(static_cast<op_block*>(w), res, flags, invoked);
    return;
  }
  if (detached_) {
    discard_result(res, flags);
    return;
  }
  results_.push_back({res, flags});
  // Connections nobody accepts yet stay in the kernel's backlog beyond a bound.
  if (kind_ == kind::accept && !final && results_.size() - head_ >= max_queued_accepts)
    s.cancel_now(this);
}

void multishot_source::on_more(op_block* base, scheduler& s, int res, unsigned flags,
                               bool& invoked) {
  static_cast<multishot_source*>(base)->deliver(s, res, flags, false, invoked);
}

void multishot_source::on_final(op_block* base, scheduler& s, int res, unsigned flags,
                                bool& invoked) {
  auto* self = static_cast<multishot_source*>(base);
  self->deliver(s, res, flags, true, invoked);
  s.release_block(self); // on_free below once no cancel CQE is due; may re-arm or delete
}

void multishot_source::on_free(op_block* base, scheduler* s) {
  auto* self = static_cast<multishot_source*>(base);
  self->busy_ = false;
  self->state_ = 0;
  if (self->detached_) {
    delete self;
    return;
  }
  if (s && !s->shutting_down() && self->want_arm())
    self->arm(*s);
}

void multishot_source::on_discard(op_block* base, int res, unsigned flags) noexcept {
  static_cast<multishot_source*>(base)->discard_result(res, flags);
}

} // namespace asio_uring::detail
