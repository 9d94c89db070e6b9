import Synchronization

/// A one-waiter signal with a timeout.
public final class Wakeup: Sendable {
    public init() {}

    private let state = Mutex<(signaled: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    /// Wakes the waiter, or the next wait when nobody waits.
    public func signal() {
        state.withLock { s in
            if let waiter = s.waiter {
                s.waiter = nil
                waiter.resume()
            } else {
                s.signaled = true
            }
        }
    }

    /// Waits until signalled or `seconds` passed (or the task is cancelled).
    public func wait(seconds: Double) async {
        let timer = Task { [weak self] in
            try? await Task.sleep(nanoseconds: UInt64(max(0, seconds) * 1_000_000_000))
            if !Task.isCancelled { self?.signal() }
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                state.withLock { s in
                    if s.signaled {
                        s.signaled = false
                        continuation.resume()
                    } else {
                        s.waiter = continuation
                    }
                }
            }
        } onCancel: {
            self.signal()
        }
        timer.cancel()
    }
}
