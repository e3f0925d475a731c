// asio_uring::buffer_ring: a provided-buffer ring (io_uring_register_buf_ring). Receives on a
// socket take a buffer the kernel picks when data arrives, so an idle connection holds none.
#pragma once

#include <asio_uring/io_context.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

struct io_uring_buf_ring;

namespace asio_uring {

namespace detail {
class multishot_source;

/// The ring's memory and registration; shared by every ring_buffer and every receive using it,
/// so the memory outlives any operation the kernel may still fill.
struct buffer_ring_state {
  buffer_ring_state(scheduler& s, std::size_t count, std::size_t buffer_size);
  ~buffer_ring_state();
  buffer_ring_state(const buffer_ring_state&) = delete;
  buffer_ring_state& operator=(const buffer_ring_state&) = delete;

  std::byte* buffer(std::uint16_t id) const noexcept {
    return buffers + static_cast<std::size_t>(id) * buffer_size;
  }
  /// Hands buffer `id` back to the kernel. Any thread.
  void give_back(std::uint16_t id) noexcept;
  /// A receive found the ring empty (ENOBUFS): re-arm `src` when a buffer comes back.
  void add_starved(multishot_source* src);
  void remove_starved(multishot_source* src) noexcept;
  /// Re-arms the starved receives. Thread running the context.
  void rearm_starved();

  scheduler& sched;
  std::weak_ptr<void> sched_alive; // a ring_buffer may outlive the context
  std::weak_ptr<buffer_ring_state> self;
  io_uring_buf_ring* ring = nullptr; // the shared ring of buffer addresses (page aligned)
  std::byte* buffers = nullptr;
  std::size_t memory_size = 0;
  std::size_t buffer_size;
  unsigned count;
  unsigned entries; // ring slots: count rounded up to a power of two
  std::uint16_t group_id = 0;
  std::mutex mutex; // buffers come back from any thread
  std::atomic<unsigned> handed_out{0};
  std::atomic<bool> any_starved{false};
  std::vector<multishot_source*> starved; // thread running the context only
};
} // namespace detail

/// A buffer the kernel filled from a buffer_ring. Movable; destroying it gives the buffer back
/// to the ring (from any thread).
class ring_buffer {
public:
  ring_buffer() noexcept = default;
  ring_buffer(ring_buffer&& o) noexcept
      : ring_(std::move(o.ring_)), id_(o.id_), size_(std::exchange(o.size_, 0)) {}
  ring_buffer& operator=(ring_buffer&& o) noexcept {
    if (this != &o) {
      give_back();
      ring_ = std::move(o.ring_);
      id_ = o.id_;
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  ~ring_buffer() { give_back(); }

  /// The received bytes.
  const std::byte* data() const noexcept { return ring_ ? ring_->buffer(id_) : nullptr; }
  std::byte* data() noexcept { return ring_ ? ring_->buffer(id_) : nullptr; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  /// Gives the buffer back now.
  void reset() noexcept { give_back(); }

  /// Internal: wraps buffer `id` of `ring` holding `size` bytes.
  ring_buffer(std::shared_ptr<detail::buffer_ring_state> ring, std::uint16_t id,
              std::size_t size) noexcept
      : ring_(std::move(ring)), id_(id), size_(size) {}

private:
  void give_back() noexcept {
    if (ring_)
      ring_->give_back(id_);
    ring_.reset();
    size_ = 0;
  }
  std::shared_ptr<detail::buffer_ring_state> ring_;
  std::uint16_t id_ = 0;
  std::size_t size_ = 0;
};

/// `count` buffers of `buffer_size` bytes the kernel picks from for `socket.async_receive(ring)`.
/// Create it before the context runs or on its running thread. Throws
/// boost::system::system_error if the kernel refuses (no buffer rings before Linux 5.19,
/// RLIMIT_MEMLOCK) and std::invalid_argument for a count of 0 or above 32768.
class buffer_ring {
public:
  buffer_ring(io_context& ctx, std::size_t count, std::size_t buffer_size);

  std::size_t size() const noexcept { return state_->count; }
  std::size_t buffer_size() const noexcept { return state_->buffer_size; }
  /// Buffers the kernel has filled and not yet had back.
  std::size_t in_use() const noexcept { return state_->handed_out.load(); }

  /// Internal.
  const std::shared_ptr<detail::buffer_ring_state>& state() const noexcept { return state_; }

private:
  std::shared_ptr<detail::buffer_ring_state> state_;
};

} // namespace asio_uring
