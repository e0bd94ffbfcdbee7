// The runner's main (CAF test).
#define CAF_SUITE agent
#include "caf/test/unit_test.hpp"
#include "caf/test/unit_test_impl.hpp"
