#include "LogFilter.h"

#include "EngineMessages.h"
#include "EventCatalog.h"
#include "Timestamp.h"

using namespace Qt::StringLiterals;

namespace eventdesk {

LogFilter::LogFilter(QObject *parent)
    : QObject(parent)
{
}

void LogFilter::setState(const FilterState &state)
{
    update(state);
}

void LogFilter::setWorld(const QString &world)
{
    FilterState next = m_state;
    next.world = world;
    update(std::move(next));
}

void LogFilter::setTypes(const QList<EventKind> &kinds, const QStringList &tags)
{
    FilterState next = m_state;
    next.kinds = kinds;
    next.tags = tags;
    update(std::move(next));
}

void LogFilter::setHideProgress(bool hide)
{
    FilterState next = m_state;
    next.hideProgress = hide;
    update(std::move(next));
}

void LogFilter::setText(const QString &text)
{
    FilterState next = m_state;
    next.text = text.trimmed();
    update(std::move(next));
}

void LogFilter::setSince(int seconds)
{
    FilterState next = m_state;
    next.sinceSeconds = std::max(0, seconds);
    update(std::move(next));
}

void LogFilter::clear()
{
    update(FilterState{});
}

void LogFilter::setNames(const QHash<QString, QString> &names)
{
    m_names = names;
}

void LogFilter::update(FilterState next)
{
    const bool same = next == m_state;
    if (same && next.sinceSeconds == 0)
        return;
    m_state = std::move(next);
    save();
    Q_EMIT changed(query());
}

EventQuery LogFilter::queryAt(const QDateTime &now) const
{
    EventQuery q;
    if (m_state.world == QLatin1StringView(NoWorldFilter))
        q.worlds = {QString()};
    else if (!m_state.world.isEmpty())
        q.worlds = {m_state.world};
    q.kinds = m_state.kinds;
    q.tags = m_state.tags;
    if (m_state.hideProgress) {
        if (q.kinds.isEmpty() && q.tags.isEmpty()) {
            for (const VariantSpec &v : catalog::variants())
                q.kinds.append(v.kind);
            // Today's engine's messages stay in view (its progress goes with the kinds').
            for (const QString &t : engine::knownTags())
                if (!engine::appEventKind(t))
                    q.tags.append(t);
        }
        q.kinds.removeIf([](EventKind k) { return catalog::name(k).endsWith(u"Progress"_s); });
    }
    q.text = m_state.text;
    // "Aria" finds Aria's events: payloads hold her UUID, not her name.
    if (!q.text.isEmpty()) {
        QStringList ids;
        for (auto it = m_names.cbegin(); it != m_names.cend(); ++it)
            if (it.value().contains(q.text, Qt::CaseInsensitive))
                ids.append(it.key());
        ids.sort();  // the same names make the same query
        q.textAlso = ids.mid(0, MaxTextAlso);
    }
    if (m_state.sinceSeconds > 0)
        q.createdFrom = timestamp::nanos(now.addSecs(-m_state.sinceSeconds));
    return q;
}

void LogFilter::restore(const QString &database)
{
    m_database = database;
    m_state = Settings(database).filters();
    Q_EMIT changed(query());
}

void LogFilter::save() const
{
    if (!m_database.isEmpty())
        Settings(m_database).setFilters(m_state);
}

} // namespace eventdesk
