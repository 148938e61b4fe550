// Fixture for core.atomic_bypass_detected: library code that reaches around the indirection.
#include <atomic>
inline std::atomic<int> counter{0};
