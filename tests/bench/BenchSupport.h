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
