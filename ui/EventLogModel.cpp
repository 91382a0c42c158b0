#include "EventLogModel.h"

#include "EventCodec.h"
#include "Subscriber.h"

#include <QColor>
#include <QFont>
#include <QIcon>
#include <QLocale>
#include <QPainter>
#include <QPixmap>

using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {

QIcon categoryIcon(Category c)
{
    static QHash<int, QIcon> cache;
    if (!cache.contains(int(c))) {
        QPixmap pm(12, 12);
        pm.fill(Qt::transparent);
        QPainter p(&pm);
        p.setRenderHint(QPainter::Antialiasing);
        p.setBrush(EventLogModel::categoryColor(c));
        p.setPen(Qt::NoPen);
        p.drawEllipse(1, 1, 10, 10);
        cache.insert(int(c), QIcon(pm));
    }
    return cache.value(int(c));
}

} // namespace

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

void EventLogModel::setDisplayNames(QHash<QString, QString> names)
{
    if (names == m_names)
        return;
    m_names = std::move(names);
    if (!m_rows.isEmpty())
        Q_EMIT dataChanged(index(0, WorldColumn), index(rowCount() - 1, SummaryColumn));
}

// A job's progress names only its batch or request: remember what each job is
// for (from its Queued row, whenever one passes through) to say it instead.
void EventLogModel::learnJobs(const QList<StoredEvent> &rows)
{
    for (const StoredEvent &row : rows) {
        if (!row.event)
            continue;
        if (const auto *q = row.event->as<events::GenerationBatchQueued>())
            m_jobs.insert(q->batchId, {q->assetType + u" for "_s + q->entityType + u' ', q->entityId});
        else if (const auto *s = row.event->as<events::SuggestionQueued>())
            m_jobs.insert(s->requestId, {s->fieldType + u" suggestion"_s, QString()});
    }
    if (m_jobs.size() > 20000)
        m_jobs.clear();  // bounded; the next rows teach it again
}

void EventLogModel::learnJobLabels(const QHash<QString, QString> &labels)
{
    bool learned = false;
    for (auto it = labels.cbegin(); it != labels.cend(); ++it) {
        if (it.value().isEmpty() || m_jobs.contains(it.key()))
            continue;
        // "portrait for character <id>": the entity by its id, shown by name.
        const qsizetype cut = it.value().lastIndexOf(u' ');
        const QString entity = cut > 0 ? it.value().mid(cut + 1) : QString();
        if (cut > 0 && it.value().left(cut).contains(u" for "_s))
            m_jobs.insert(it.key(), {it.value().left(cut + 1), entity});
        else
            m_jobs.insert(it.key(), {it.value(), QString()});
        learned = true;
    }
    if (learned && !m_rows.isEmpty())
        Q_EMIT dataChanged(index(int(m_first), SummaryColumn), index(int(m_first + m_rows.size() - 1), SummaryColumn));
}

QString EventLogModel::displaySummary(const AppEvent &event) const
{
    QString text = event.summary();
    if (m_jobs.isEmpty() && m_names.isEmpty())
        return text;
    // Only the event's own ids are looked up: a handful per row, never every name.
    const QJsonObject fields = codec::fieldsToJson(event);
    const bool queued = event.kind() == EventKind::GenerationBatchQueued || event.kind() == EventKind::SuggestionQueued;
    for (auto it = fields.begin(); it != fields.end(); ++it) {
        if (!it.key().endsWith(u"_id"_s) || !it.value().isString())
            continue;
        const QString id = it.value().toString();
        if (id.isEmpty())
            continue;
        if (const auto job = m_jobs.constFind(id); job != m_jobs.constEnd() && !queued)
            text.replace(id, u"(%1%2)"_s.arg(job->first, job->second.isEmpty() ? QString() : displayName(job->second)));
        else if (const auto name = m_names.constFind(id); name != m_names.constEnd())
            text.replace(id, *name);
    }
    return text;
}

QColor EventLogModel::categoryColor(Category category)
{
    switch (category) {
    case Category::Story: return QColor(0x3b, 0x82, 0xc4);
    case Category::Narrative: return QColor(0x8e, 0x5a, 0xc8);
    case Category::Challenge: return QColor(0xd9, 0x8c, 0x1f);
    case Category::Generation: return QColor(0x2e, 0xa0, 0x6b);
    case Category::Suggestion: return QColor(0x17, 0x9c, 0xb0);
    }
    return Qt::gray;
}

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

QVariant EventLogModel::data(const QModelIndex &index, int role) const
{
    const StoredEvent *e = index.isValid() ? eventAt(index.row()) : nullptr;
    if (!e) {
        if (!index.isValid() || index.row() >= rowCount())
            return {};
        // A row outside the window: its window is read, and the row says so meanwhile.
        if (role == Qt::DisplayRole || role == Qt::ForegroundRole)
            ensureLoaded(index.row());
        if (role == Qt::DisplayRole && index.column() == SummaryColumn)
            return tr("Loading…");
        if (role == Qt::ForegroundRole)
            return QColor(Qt::gray);
        return {};
    }
    const int col = index.column();
    if (role == EventIdRole)
        return e->id;
    if (role == CategoryRole)
        return e->event ? QVariant(int(e->event->category())) : QVariant();
    if (role == RawValueRole) {
        switch (col) {
        case IdColumn: return e->id;
        case TimeColumn: return e->createdAt;
        case TypeColumn: return e->eventType;
        case WorldColumn: return e->event ? e->event->worldId() : QString();
        case SummaryColumn: return e->event ? e->event->summary() : e->decodeError;
        case ProcessedColumn: return e->processed;
        }
    }
    if (role == Qt::DisplayRole || role == Qt::ToolTipRole) {
        switch (col) {
        case IdColumn: return e->id;
        case TimeColumn:
            if (!e->createdAt.isValid())
                return e->createdAtText;
            if (role == Qt::ToolTipRole)
                return e->createdAtText;
            {
                // Today's events by the time alone; older ones with their day.
                const QDateTime local = e->createdAt.toLocalTime();
                return local.date() == QDate::currentDate() ? local.toString(u"HH:mm:ss"_s)
                                                            : local.toString(u"yyyy-MM-dd HH:mm"_s);
            }
        case TypeColumn: return e->eventType;
        case WorldColumn:
            if (!e->event)
                return u"?"_s;
            if (e->event->worldId().isEmpty())
                return u"—"_s;
            if (role == Qt::ToolTipRole && m_names.contains(e->event->worldId()))
                return u"%1 (%2)"_s.arg(displayName(e->event->worldId()), e->event->worldId());
            return displayName(e->event->worldId());
        case SummaryColumn: {
            QString summary = e->event ? displaySummary(*e->event) : u"Undecodable: %1"_s.arg(e->decodeError);
            // The text filter matched where the summary does not show it: show where.
            const QString &needle = m_query.text;
            if (!needle.isEmpty() && role == Qt::DisplayRole && !summary.contains(needle, Qt::CaseInsensitive)) {
                const QString payload = QString::fromUtf8(e->payload);
                if (const qsizetype at = payload.indexOf(needle, 0, Qt::CaseInsensitive); at >= 0) {
                    const qsizetype from = std::max<qsizetype>(0, at - 24);
                    summary += u"  — “%1%2%3”"_s.arg(from > 0 ? u"…"_s : QString(),
                                                      payload.mid(from, at - from + needle.size() + 32),
                                                      at + needle.size() + 32 < payload.size() ? u"…"_s : QString());
                }
            }
            return summary;
        }
        case ProcessedColumn: return e->processed ? u"✓"_s : QString();
        }
    }
    if (role == Qt::DecorationRole && col == TypeColumn)
        return e->event ? categoryIcon(e->event->category()) : QIcon::fromTheme(u"dialog-warning"_s);
    if (role == Qt::ForegroundRole) {
        if (!e->event)
            return QColor(0xc0, 0x39, 0x2b);
        if (col == SummaryColumn && e->event->kind() == EventKind::GenerationBatchFailed)
            return QColor(0xc0, 0x39, 0x2b);
        if (col == SummaryColumn && e->event->kind() == EventKind::SuggestionFailed)
            return QColor(0xc0, 0x39, 0x2b);
    }
    if (role == Qt::TextAlignmentRole && (col == IdColumn || col == ProcessedColumn))
        return int(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::FontRole && col == IdColumn) {
        QFont f;
        f.setFamily(u"monospace"_s);
        return f;
    }
    return {};
}

QVariant EventLogModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::ToolTipRole && section == ProcessedColumn)
        return tr("Processed: a consumer has handled the event");
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case IdColumn: return tr("ID");
    case TimeColumn: return tr("Time");
    case TypeColumn: return tr("Type");
    case WorldColumn: return tr("World");
    case SummaryColumn: return tr("What happened");
    case ProcessedColumn: return u"✓"_s;
    }
    return {};
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
        if (generation != m_generation)
            return;
        if (!r) {
            Q_EMIT errorOccurred(r.error().message);
            return;
        }
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
    m_store.fetchPage(page).then(this, [this, generation, where, first](const Result<QList<StoredEvent>> &r) {
        m_loadingWindow = false;
        if (generation != m_generation)
            return;
        if (!r) {
            Q_EMIT errorOccurred(r.error().message);
            return;
        }
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
        if (generation != m_generation || isCounted())
            return;  // counted meanwhile: the rows above are there to scroll to
        if (!r) {
            Q_EMIT errorOccurred(r.error().message);
            return;
        }
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
        if (generation != m_generation)
            return;
        if (!r) {
            Q_EMIT errorOccurred(r.error().message);
            return;
        }
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
    learnJobs(fresh);
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
        return;
    m_rows[row].processed = processed;
    m_rows[row].processedAt = processed ? QDateTime::currentDateTimeUtc() : QDateTime();
    Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

} // namespace eventdesk
