// Helpers every benchmark uses: a monotonic clock in ns, percentiles, waiting
// on a future while the event loop turns (or blocked, as a raw client waits),
// and the event loop's lateness.
#pragma once

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFuture>
#include <QList>
#include <QTimer>

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace eventdesk::bench {

inline qint64 nowNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

inline double percentile(QList<double> v, double p)
{
    if (v.isEmpty())
        return 0;
    std::sort(v.begin(), v.end());
    return v.at(std::min<qsizetype>(v.size() - 1, qsizetype(p * double(v.size()))));
}

template <typename T>
T wait(QFuture<T> f)
{
    while (!f.isFinished())
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    return f.result();
}

// Waiting as a raw client waits: blocked on the future, the event loop still.
// For stores that answer from threads of their own, so that neither side of
// a comparison spins while the other sleeps.
template <typename T>
T blockingWait(QFuture<T> f)
{
    f.waitForFinished();
    return f.result();
}

// The lines tools read, one per figure, kept stable:
//   NAME: ratio R (eventdesk X/s, baseline Y/s)
//   NAME: p99 Z ms (baseline W ms)
// The baseline is measured in the same run.
inline void printRatio(const char *name, double eventdeskPerSecond, double baselinePerSecond)
{
    std::printf("%s: ratio %.2f (eventdesk %.0f/s, baseline %.0f/s)\n", name,
                baselinePerSecond > 0 ? eventdeskPerSecond / baselinePerSecond : 0.0, eventdeskPerSecond, baselinePerSecond);
    std::fflush(stdout);
}

inline void printP99(const char *name, double p99Ms, double baselineP99Ms)
{
    std::printf("%s: p99 %.2f ms (baseline %.2f ms)\n", name, p99Ms, baselineP99Ms);
    std::fflush(stdout);
}

// How late a 5 ms timer fires while it runs: the GUI's responsiveness, in ms.
class LatenessProbe
{
public:
    LatenessProbe()
    {
        m_timer.setTimerType(Qt::PreciseTimer);
        QObject::connect(&m_timer, &QTimer::timeout, &m_timer, [this] {
            const qint64 now = m_clock.elapsed();
            if (m_expected)
                m_lags.append(double(std::max<qint64>(0, now - m_expected)));
            m_expected = now + 5;
        });
    }
    void start()
    {
        m_clock.start();
        m_expected = 0;
        m_timer.start(5);
    }
    void stop() { m_timer.stop(); }
    double percentile(double p) const { return bench::percentile(m_lags, p); }

private:
    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_expected = 0;
    QList<double> m_lags;
};

} // namespace eventdesk::bench
