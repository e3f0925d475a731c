// Boost.Test entry point for the unit test executable.
#define BOOST_TEST_MODULE asio_uring
#include <boost/test/unit_test.hpp>
