// A program outside the ringlab tree, built against its installed package.
#include <ringlab/ringlab.hpp>

#include <cstdio>
#include <thread>

int main() {
    ringlab::spsc_ring<int, ringlab::blocking_wait> ring(1024);
    std::thread producer([&] {
        for (int i = 0; i < 10'000; ++i) (void)ring.push(i);
    });
    long long sum = 0;
    for (int i = 0; i < 10'000; ++i) {
        int v = 0;
        if (ring.pop(v) != ringlab::wait_result::ready) return 1;
        sum += v;
    }
    producer.join();
    std::printf("sum=%lld\n", sum);
    return sum == 49'995'000LL ? 0 : 1;
}
