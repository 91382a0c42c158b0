#include "EventLogModel.h"

#include "EventCodec.h"
#include "Subscriber.h"

using namespace Qt::StringLiterals;

namespace eventdesk {

EventLogModel::EventLogModel(EventStore &store, Notifier &notifier, QObject *parent)
    : QAbstractTableModel(parent)
    , m_store(store)
{
    m_coalesce.setSingleShot(true);
    m_coalesce.setInterval(0);  // one insert per event-loop turn
    connect(&m_coalesce, &QTimer::timeout, this, &EventLogModel::flushLive);
    // Rows asked for while the thumb moves: the window is read once it rests
    // for a moment, and never more than one read at a time.
    m_windowSoon.setSingleShot(true);
    m_windowSoon.setInterval(15);
    connect(&m_windowSoon, &QTimer::timeout, this, &EventLogModel::loadWindow);
    // Live rows: everything after what is on disk when the model starts. The
    // head is asked for before the first page, on the same reader thread, so
    // the subscriber starts before that page arrives and misses nothing; the
    // GUI thread does not wait for either.
    Notifier *wakes = &notifier;
    store.headId().then(this, [this, wakes](const Result<qint64> &head) {
        m_live = std::make_unique<Subscriber>(m_store, *wakes, Subscriber::Options{.startAfter = head ? head.value() : 0});
        connect(m_live.get(), &Subscriber::eventsReceived, this, &EventLogModel::onLive);
        connect(m_live.get(), &Subscriber::logWentBack, this, [this](qint64 was, qint64 head) {
            Q_EMIT logWentBack(was, head);
            reload();  // the rows on screen belong to the old log
        });
        m_live->start();
    });
    // The first page is asked for from the event loop, not from here: a store
    // that answers at once would otherwise reset the model and emit loaded()
    // before whoever constructs it has connected to it.
    QMetaObject::invokeMethod(this, [this] { reload(); }, Qt::QueuedConnection);
}

EventLogModel::~EventLogModel() = default;

int EventLogModel::rowCount(const QModelIndex &parent) const
{
    if (parent.isValid())
        return 0;
    return isCounted() ? int(std::min<qint64>(m_total, INT_MAX)) : int(m_rows.size());
}

int EventLogModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : ColumnCount; }

const StoredEvent *EventLogModel::eventAt(int row) const
{
    const qint64 at = row - m_first;
    return at >= 0 && at < m_rows.size() ? &m_rows.at(at) : nullptr;
}

int EventLogModel::rowOfId(qint64 id) const
{
    const auto it = std::lower_bound(m_rows.cbegin(), m_rows.cend(), id, [](const StoredEvent &e, qint64 v) { return e.id < v; });
    return it != m_rows.cend() && it->id == id ? int(m_first + (it - m_rows.cbegin())) : -1;
}

void EventLogModel::setQuery(const EventQuery &query)
{
    m_query = query;
    reload();
}

EventQuery EventLogModel::pageQuery() const
{
    EventQuery page = m_query;
    page.limit = m_pageSize;
    page.offset = 0;
    return page;
}

// The newest page of the filter; the rows above it are counted afterwards.
void EventLogModel::reload()
{
    const quint64 generation = ++m_generation;
    m_wanted = -1;
    m_jumpTo = 0;
    EventQuery page = pageQuery();
    page.newestFirst = true;
    m_store.fetchPage(page).then(this, [this, generation](const Result<QList<StoredEvent>> &r) {
        if (generation != m_generation)
            return;  // a newer filter was set meanwhile
        m_loadedGeneration = generation;
        if (!r) {
            Q_EMIT errorOccurred(r.error().message);
            return;
        }
        beginResetModel();
        m_rows = r.value();
        learnJobs(m_rows);
        std::reverse(m_rows.begin(), m_rows.end());
        m_first = 0;
        m_hasOlder = m_rows.size() >= m_pageSize;
        // A short page is the whole filtered log: counted already.
        m_total = m_hasOlder ? -1 : m_rows.size();
        m_lastCounted = m_rows.isEmpty() ? 0 : m_rows.last().id;
        // Live rows that arrived while the page was read: keep the ones it
        // missed (flushLive drops what the page already has).
        m_pendingLive.removeIf([this](const StoredEvent &e) { return !m_query.matches(e); });
        endResetModel();
        Q_EMIT loaded();
        if (isCounted())
            Q_EMIT matchingCountChanged(m_total);
        else
            recount(m_lastCounted);
        if (!m_pendingLive.isEmpty())
            m_coalesce.start();
    });
}

// Counts the matching rows up to an id the page holds: with the rows held
// after it, that places the window in the whole log, however many live rows
// and older pages came in meanwhile.
void EventLogModel::recount(qint64 upToId)
{
    const quint64 generation = m_generation;
    EventQuery q = m_query;
    q.beforeId = upToId + 1;
    m_store.count(q).then(this, [this, generation, upToId](const Result<qint64> &r) {
        if (!usable(generation, r))
            return;
        counted(r.value(), upToId);
    });
}

void EventLogModel::counted(qint64 upToCount, qint64 upToId)
{
    // While counting, the rows held run from some row up to the newest.
    const qint64 heldUpTo = std::count_if(m_rows.cbegin(), m_rows.cend(), [upToId](const StoredEvent &e) { return e.id <= upToId; });
    const qint64 above = std::max<qint64>(0, upToCount - heldUpTo);
    if (above > 0)
        beginInsertRows({}, 0, int(std::min<qint64>(above, INT_MAX)) - 1);
    m_first = above;
    m_total = above + m_rows.size();
    if (!m_rows.isEmpty())
        m_lastCounted = m_rows.last().id;
    m_hasOlder = false;
    if (above > 0) {
        endInsertRows();
        Q_EMIT olderLoaded(int(std::min<qint64>(above, INT_MAX)));
    }
    Q_EMIT matchingCountChanged(m_total);
    if (const qint64 id = std::exchange(m_jumpTo, 0))
        jumpTo(id);
}

void EventLogModel::ensureLoaded(int row) const
{
    if (!isCounted() || row < 0 || row >= m_total || eventAt(row))
        return;
    m_wanted = row;
    if (!m_loadingWindow && !m_windowSoon.isActive())
        m_windowSoon.start();
}

// Reads the window around the row last asked for: by keyset when it touches
// the window held (scrolling), by position from the nearer end otherwise.
void EventLogModel::loadWindow()
{
    const qint64 wanted = std::exchange(m_wanted, -1);
    if (m_loadingWindow || !isCounted() || wanted < 0 || wanted >= m_total || eventAt(int(wanted)))
        return;
    const qint64 end = m_first + m_rows.size();
    EventQuery page = pageQuery();
    page.beforeId = m_lastCounted + 1;  // newer rows are not counted yet: they come live
    qint64 first = 0;
    enum { Above, Below, Away } where = Away;
    if (!m_rows.isEmpty() && wanted < m_first && wanted >= m_first - m_pageSize) {
        where = Above;
        page.newestFirst = true;
        page.beforeId = m_rows.first().id;
        first = std::max<qint64>(0, m_first - m_pageSize);
    } else if (!m_rows.isEmpty() && wanted >= end && wanted < end + m_pageSize) {
        where = Below;
        page.afterId = m_rows.last().id;
        first = end;
    } else {
        first = std::clamp<qint64>(wanted - m_pageSize / 2, 0, std::max<qint64>(0, m_total - m_pageSize));
        const qint64 last = std::min(m_total, first + m_pageSize);
        page.newestFirst = m_total - last < first;  // from the nearer end
        page.offset = page.newestFirst ? m_total - last : first;
        page.limit = int(last - first);
    }
    m_loadingWindow = true;
    const quint64 generation = m_generation;
    m_store.fetchPage(page).then(this, [this, generation, where, first, wanted](const Result<QList<StoredEvent>> &r) {
        m_loadingWindow = false;
        if (!usable(generation, r))
            return;
        QList<StoredEvent> rows = r.value();
        if (rows.isEmpty()) {
            // Counted rows that are not there: the log changed under the
            // window (pruned by another process). Count it again.
            reload();
            return;
        }
        if (rows.first().id > rows.last().id)
            std::reverse(rows.begin(), rows.end());
        learnJobs(rows);
        const qint64 oldFirst = m_first;
        const qint64 oldEnd = m_first + m_rows.size();
        if (where == Above) {
            m_first -= rows.size();
            m_rows = rows + m_rows;
            trimWindow(m_first);
        } else if (where == Below) {
            m_rows += rows;
            trimWindow(m_first + m_rows.size() - 1);
        } else {
            m_rows = std::move(rows);
            m_first = first;
            if (!eventAt(int(wanted))) {
                reload();  // fewer rows than counted: the log changed under the window
                return;
            }
        }
        const auto changed = [this](qint64 from, qint64 to) {
            if (to > from)
                Q_EMIT dataChanged(index(int(from), 0), index(int(std::min<qint64>(to, m_total) - 1), ColumnCount - 1));
        };
        changed(m_first, m_first + m_rows.size());
        if (oldEnd > oldFirst && (oldEnd <= m_first || oldFirst >= m_first + m_rows.size()))
            changed(oldFirst, oldEnd);  // what was shown there reads "loading" now
        Q_EMIT windowLoaded(m_first, int(m_rows.size()));
        if (m_wanted >= 0)
            m_windowSoon.start();  // the view moved on meanwhile
    });
}

// Bounded: keeps at most m_maxRows, the ones nearest the row to keep.
void EventLogModel::trimWindow(qint64 keep)
{
    const qsizetype over = m_rows.size() - m_maxRows;
    if (over <= 0)
        return;
    if (keep - m_first >= m_rows.size() / 2) {
        m_rows.remove(0, over);
        m_first += over;
    } else {
        m_rows.remove(m_rows.size() - over, over);
    }
}

void EventLogModel::fetchOlder()
{
    if (!canFetchOlder() || m_rows.isEmpty())
        return;
    m_loadingOlder = true;
    const quint64 generation = m_generation;
    EventQuery page = pageQuery();
    page.newestFirst = true;
    page.beforeId = m_rows.first().id;
    m_store.fetchPage(page).then(this, [this, generation](const Result<QList<StoredEvent>> &r) {
        m_loadingOlder = false;
        if (isCounted() || !usable(generation, r))
            return;  // counted meanwhile: the rows above are there to scroll to
        QList<StoredEvent> older = r.value();
        m_hasOlder = older.size() >= m_pageSize;
        if (older.isEmpty())
            return;
        std::reverse(older.begin(), older.end());
        beginInsertRows({}, 0, int(older.size()) - 1);
        learnJobs(older);
        m_rows = older + m_rows;
        endInsertRows();
        Q_EMIT olderLoaded(int(older.size()));
    });
}

void EventLogModel::jumpTo(qint64 id)
{
    if (const int row = rowOfId(id); row >= 0) {
        Q_EMIT jumped(row);
        return;
    }
    if (!isCounted()) {
        m_jumpTo = id;  // once the rows above are counted
        return;
    }
    // The id's place in the filtered log: the matching rows before it.
    EventQuery before = m_query;
    before.beforeId = id;
    const quint64 generation = m_generation;
    m_store.count(before).then(this, [this, generation, id](const Result<qint64> &r) {
        if (!usable(generation, r))
            return;
        if (r.value() >= m_total || id > m_lastCounted) {
            Q_EMIT jumped(-1);
            return;
        }
        // The id itself may not match: then the row at its place is shown.
        const int row = int(r.value());
        if (eventAt(row)) {
            Q_EMIT jumped(rowOfId(id) >= 0 ? rowOfId(id) : row);
            return;
        }
        m_jumpTo = id;
        connect(this, &EventLogModel::windowLoaded, this, [this, id, row] {
            if (std::exchange(m_jumpTo, 0) == id)
                Q_EMIT jumped(rowOfId(id) >= 0 ? rowOfId(id) : row);
        }, Qt::SingleShotConnection);
        ensureLoaded(row);
    });
}

void EventLogModel::onLive(const QList<StoredEvent> &events)
{
    learnJobs(events);  // every job that starts, whatever the filter shows
    Q_EMIT eventsArrived(events);
    for (const StoredEvent &e : events) {
        if (m_query.matches(e))
            m_pendingLive.append(e);
    }
    if (!m_pendingLive.isEmpty() && !m_coalesce.isActive())
        m_coalesce.start();
}

void EventLogModel::showNewest()
{
    if (hasNewer())
        ensureLoaded(int(std::min<qint64>(m_total, INT_MAX)) - 1);
}

void EventLogModel::flushLive()
{
    if (m_pendingLive.isEmpty() || isLoading())
        return;
    // Only rows newer than what a (re)load or the count brought in.
    const qint64 last = std::max(m_lastCounted, m_rows.isEmpty() ? qint64(0) : m_rows.last().id);
    QList<StoredEvent> fresh;
    for (StoredEvent &e : m_pendingLive)
        if (e.id > last)
            fresh.append(std::move(e));
    m_pendingLive.clear();
    if (fresh.isEmpty())
        return;
    const int rowsBefore = rowCount();
    // The rows join the window when it reaches the newest; otherwise they are
    // counted, and read when the view gets there.
    const bool windowAtEnd = !isCounted() || m_first + m_rows.size() == m_total;
    beginInsertRows({}, rowsBefore, rowsBefore + int(fresh.size()) - 1);
    if (isCounted()) {
        m_total += fresh.size();
        m_lastCounted = fresh.last().id;
    }
    if (windowAtEnd)
        m_rows += fresh;
    endInsertRows();
    if (windowAtEnd && m_rows.size() > m_maxRows) {
        const int drop = int(m_rows.size()) - m_maxRows;
        if (isCounted()) {
            m_rows.remove(0, drop);  // the rows stay; only the window moves on
            m_first += drop;
        } else {
            beginRemoveRows({}, 0, drop - 1);
            m_rows.remove(0, drop);
            endRemoveRows();
            m_hasOlder = true;
        }
    }
    if (isCounted())
        Q_EMIT matchingCountChanged(m_total);
    Q_EMIT rowsAppendedLive(int(fresh.size()));
}

void EventLogModel::setProcessed(qint64 id, bool processed)
{
    const int row = rowOfId(id);
    if (row < 0)
        return;  // not held: it is read as it is when the view gets there
    StoredEvent &held = m_rows[row - m_first];  // rows are positions; the window starts at m_first
    held.processed = processed;
    held.processedAt = processed ? QDateTime::currentDateTimeUtc() : QDateTime();
    Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

} // namespace eventdesk
