// asio_uring::file_base: Asio's file open flags and seek bases (no BOOST_ASIO_HAS_IO_URING
// needed), plus `direct` for O_DIRECT.
#pragma once

#include <fcntl.h>
#include <unistd.h>

namespace asio_uring {

class file_base {
public:
  enum flags : unsigned {
    read_only = O_RDONLY,
    write_only = O_WRONLY,
    read_write = O_RDWR,
    append = O_APPEND,
    create = O_CREAT,
    exclusive = O_EXCL,
    truncate = O_TRUNC,
    sync_all_on_write = O_SYNC,
    direct = O_DIRECT ///< bypass the page cache: buffers, offsets and sizes must be aligned
  };
  friend constexpr flags operator&(flags x, flags y) { return flags(unsigned(x) & unsigned(y)); }
  friend constexpr flags operator|(flags x, flags y) { return flags(unsigned(x) | unsigned(y)); }
  friend constexpr flags operator^(flags x, flags y) { return flags(unsigned(x) ^ unsigned(y)); }
  friend constexpr flags operator~(flags x) { return flags(~unsigned(x)); }
  friend constexpr flags& operator&=(flags& x, flags y) { return x = x & y; }
  friend constexpr flags& operator|=(flags& x, flags y) { return x = x | y; }
  friend constexpr flags& operator^=(flags& x, flags y) { return x = x ^ y; }

  enum seek_basis { seek_set = SEEK_SET, seek_cur = SEEK_CUR, seek_end = SEEK_END };

protected:
  ~file_base() = default;
};

} // namespace asio_uring
