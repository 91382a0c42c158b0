// Helpers every benchmark uses: a monotonic clock in ns, percentiles, and
// waiting on a future while the event loop turns.
#pragma once

#include <QCoreApplication>
#include <QFuture>
#include <QList>

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

} // namespace eventdesk::bench
