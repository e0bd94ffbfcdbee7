// The transport unit tests' runner.
#define CAF_SUITE transport
#include "caf/test/unit_test_impl.hpp"
