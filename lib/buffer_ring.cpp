// Provided-buffer rings: memory, registration, buffers handed back from any thread.
#include <asio_uring/buffer_ring.hpp>

#include <asio_uring/detail/scheduler.hpp>

#include "multishot_source.hpp"

#include <liburing.h>

#include <boost/system/system_error.hpp>

#include <algorithm>
#include <bit>
#include <stdexcept>
#include <sys/mman.h>
#include <unistd.h>

namespace asio_uring {

namespace detail {

namespace {
// Re-arms the starved receives of a ring on the running thread (buffers came back elsewhere).
struct rearm_request final : scheduler_operation {
  explicit rearm_request(std::shared_ptr<buffer_ring_state> r)
      : scheduler_operation(&run), ring(std::move(r)) {}
  static void run(scheduler* owner, scheduler_operation* base) {
    auto* self = static_cast<rearm_request*>(base);
    std::shared_ptr<buffer_ring_state> ring = std::move(self->ring);
    delete self;
    if (owner)
      ring->rearm_starved();
  }
  std::shared_ptr<buffer_ring_state> ring;
};
} // namespace

buffer_ring_state::buffer_ring_state(scheduler& s, std::size_t n, std::size_t size)
    : sched(s), sched_alive(s.alive_token()), buffer_size(size), count(static_cast<unsigned>(n)) {
  if (n == 0 || n > 32768 || size == 0 || size > (1u << 31))
    throw std::invalid_argument("asio_uring::buffer_ring: count must be 1..32768 and "
                                "buffer_size 1..2 GiB");
  entries = std::bit_ceil(count);
  std::size_t ring_bytes = entries * sizeof(io_uring_buf);
  long page = ::sysconf(_SC_PAGESIZE);
  ring_bytes = (ring_bytes + page - 1) / page * page;
  memory_size = ring_bytes + n * size;
  void* mem =
      ::mmap(nullptr, memory_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED)
    throw boost::system::system_error(
        boost::system::error_code(errno, boost::system::system_category()),
        "asio_uring::buffer_ring: mmap");
  ring = static_cast<io_uring_buf_ring*>(mem);
  buffers = static_cast<std::byte*>(mem) + ring_bytes;
  io_uring_buf_ring_init(ring);
  try {
    group_id = s.register_buf_ring(ring, entries);
  } catch (...) {
    ::munmap(mem, memory_size);
    throw;
  }
  int mask = io_uring_buf_ring_mask(entries);
  for (unsigned i = 0; i < count; ++i)
    io_uring_buf_ring_add(ring, buffer(static_cast<std::uint16_t>(i)),
                          static_cast<unsigned>(buffer_size), static_cast<unsigned short>(i), mask,
                          static_cast<int>(i));
  io_uring_buf_ring_advance(ring, static_cast<int>(count));
}

buffer_ring_state::~buffer_ring_state() {
  // No receive uses the group any more (each holds this state), so the kernel will not pick
  // from this memory again.
  if (auto alive = sched_alive.lock())
    sched.unregister_buf_ring(group_id);
  ::munmap(ring, memory_size);
}

void buffer_ring_state::give_back(std::uint16_t id) noexcept {
  {
    std::lock_guard<std::mutex> lock(mutex);
    io_uring_buf_ring_add(ring, buffer(id), static_cast<unsigned>(buffer_size), id,
                          io_uring_buf_ring_mask(entries), 0);
    io_uring_buf_ring_advance(ring, 1);
  }
  handed_out.fetch_sub(1, std::memory_order_relaxed);
  if (!any_starved.load(std::memory_order_acquire))
    return;
  auto alive = sched_alive.lock();
  if (!alive)
    return;
  if (sched.running_in_this_thread()) {
    rearm_starved();
    return;
  }
  if (auto me = self.lock()) {
    try {
      sched.post(new rearm_request(std::move(me))); // not work: like Asio's internal ops
    } catch (...) {
    }
  }
}

void buffer_ring_state::add_starved(multishot_source* src) {
  starved.push_back(src);
  any_starved.store(true, std::memory_order_release);
}

void buffer_ring_state::remove_starved(multishot_source* src) noexcept {
  std::erase(starved, src);
  if (starved.empty())
    any_starved.store(false, std::memory_order_release);
}

void buffer_ring_state::rearm_starved() {
  std::vector<multishot_source*> now = starved; // re-arming removes them from the list
  for (multishot_source* src : now)
    src->buffers_returned(sched);
}

} // namespace detail

buffer_ring::buffer_ring(io_context& ctx, std::size_t count, std::size_t buffer_size)
    : state_(std::make_shared<detail::buffer_ring_state>(ctx.impl(), count, buffer_size)) {
  state_->self = state_;
}

} // namespace asio_uring
