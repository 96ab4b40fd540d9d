import Testing
import Threads

@Suite struct WorkerPoolTests {
    struct Boom: Error {}

    @Test func everyItemRunsOnceOnAtMostWidthThreads() throws {
        let seen = Locked<[Int: Int]>([:])
        let running = Locked((now: 0, most: 0))
        try WorkerPool.forEach(Array(0..<5_000), width: 3, name: "test") { item in
            running.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
            seen.withLock { $0[item, default: 0] += 1 }
            running.withLock { $0.now -= 1 }
        }
        #expect(seen.value.count == 5_000 && seen.value.values.allSatisfy { $0 == 1 })
        #expect(running.value.most <= 3)
    }

    @Test func theFirstErrorStopsItemsNotYetStarted() {
        let ran = Locked(0)
        #expect(throws: Boom.self) {
            try WorkerPool.forEach(Array(0..<10_000), width: 2, name: "test") { item in
                ran.withLock { $0 += 1 }
                if item == 10 { throw Boom() }
            }
        }
        #expect(ran.value < 10_000)
    }
}
