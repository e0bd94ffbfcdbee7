// Test runner for the config layer.
#define CAF_SUITE config
#include "caf/test/unit_test.hpp"
#include "caf/test/unit_test_impl.hpp"
