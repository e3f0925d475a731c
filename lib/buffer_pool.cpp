// asio_uring::buffer_pool: registration of the pool's memory with the ring.
#include <asio_uring/buffer_pool.hpp>

#include <boost/system/system_error.hpp>

#include <cerrno>

namespace asio_uring::detail {

pool_state::pool_state(scheduler& s, std::size_t n, std::size_t size)
    : sched(s), sched_alive(s.alive_token()), memory(n * size, 4096), buffer_size(size),
      count(static_cast<unsigned>(n)) {
  if (n == 0 || n > 16384 || size == 0 || size > (1u << 30))
    throw boost::system::system_error(
        boost::system::error_code(EINVAL, boost::system::system_category()),
        "asio_uring::buffer_pool: count must be 1..16384 and buffer_size 1 byte..1 GiB");
  first_index = sched.register_fixed_buffers(memory.data(), size, count);
  free.reserve(n);
  for (std::size_t i = n; i-- > 0;)
    free.push_back(static_cast<std::uint16_t>(i));
}

pool_state::~pool_state() {
  if (auto alive = sched_alive.lock())
    sched.release_fixed_buffers(first_index, count);
}

} // namespace asio_uring::detail
