// asio_uring::system_timer.
#pragma once
#include <asio_uring/basic_waitable_timer.hpp>
