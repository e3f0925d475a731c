// What a stream socket's operations share beyond the fd: per-direction order and the multishot
// source. Reference counted: operations may outlive a moved, closed or destroyed socket.
#pragma once

#include <asio_uring/detail/op_block.hpp>

#include <atomic>
#include <memory>

namespace asio_uring::detail {

class multishot_source; // lib/multishot_source.hpp
struct buffer_ring_state;
class scheduler;

/// One direction of a stream: the op in the kernel and those queued behind it. Two SENDs in
/// flight on one TCP socket may complete in either order (PITFALLS 16), so one goes at a time.
struct direction_gate {
  op_block* active = nullptr;
  op_queue<scheduler_operation> waiting;
};

class socket_state {
public:
  socket_state() = default;
  socket_state(const socket_state&) = delete;
  socket_state& operator=(const socket_state&) = delete;

  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1)
      destroy(this);
  }

  // Touched only by the thread running the context.
  direction_gate gates[2]; // [0] receive, [1] send
  /// The multishot recv (ring receives) or accept behind this socket; created on first use.
  multishot_source* source = nullptr;

private:
  static void destroy(socket_state* s) noexcept; // lib/multishot_source.cpp
  ~socket_state() = default;
  std::atomic<unsigned> refs_{1};
};

/// The socket's multishot receive over `ring`, created on first use; null if it already
/// receives from another ring.
op_parking* receive_source(scheduler& s, socket_state& st, int fd,
                           const std::shared_ptr<buffer_ring_state>& ring);
/// The acceptor's multishot accept, created on first use.
op_parking* accept_source(scheduler& s, socket_state& st, int fd);

} // namespace asio_uring::detail
