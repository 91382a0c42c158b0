#include "Settings.h"

#include "EngineMessages.h"
#include "EventCatalog.h"

#include <QCryptographicHash>
#include <QSettings>

using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {

// Every key, once. The per-database ones are under Settings::databaseGroup().
constexpr auto WindowGeometry = "window/geometry"_L1;
constexpr auto WindowState = "window/state"_L1;
constexpr auto RecentDatabases = "recentDatabases"_L1;
constexpr auto ServeMetrics = "session/metrics"_L1;
constexpr auto NotifyKinds = "notify/kinds"_L1;
constexpr auto RecordEngine = "record/engine"_L1;
constexpr auto Layout = "layout"_L1;
constexpr auto Columns = "columns"_L1;
constexpr auto FilterWorld = "world"_L1;
constexpr auto FilterTypes = "types"_L1;
constexpr auto FilterHideProgress = "hideProgress"_L1;
constexpr auto FilterText = "text"_L1;
constexpr auto FilterSince = "since"_L1;

constexpr int MaxRecent = 8;

} // namespace

Settings::Settings(QString database)
{
    if (!database.isEmpty()) {
        const QByteArray id = QCryptographicHash::hash(database.toUtf8(), QCryptographicHash::Sha1).toHex().left(16);
        m_group = u"filters/%1/"_s.arg(QString::fromLatin1(id));
    }
}

QByteArray Settings::windowGeometry() const { return QSettings().value(WindowGeometry).toByteArray(); }
void Settings::setWindowGeometry(const QByteArray &geometry) { QSettings().setValue(WindowGeometry, geometry); }
bool Settings::hasWindowGeometry() const { return QSettings().contains(WindowGeometry); }
QByteArray Settings::windowState() const { return QSettings().value(WindowState).toByteArray(); }
void Settings::setWindowState(const QByteArray &state) { QSettings().setValue(WindowState, state); }

QStringList Settings::recentDatabases() const { return QSettings().value(RecentDatabases).toStringList(); }

void Settings::addRecentDatabase(const QString &path)
{
    QStringList recent = recentDatabases();
    recent.removeAll(path);
    recent.prepend(path);
    QSettings().setValue(RecentDatabases, recent.mid(0, MaxRecent));
}

bool Settings::serveMetrics() const { return QSettings().value(ServeMetrics, false).toBool(); }
void Settings::setServeMetrics(bool on) { QSettings().setValue(ServeMetrics, on); }

QList<EventKind> Settings::notifyKinds() const
{
    const QStringList names =
        QSettings().value(NotifyKinds, QStringList{u"GenerationBatchFailed"_s, u"SuggestionFailed"_s}).toStringList();
    QList<EventKind> kinds;
    for (const QString &n : names)
        if (const auto k = catalog::kindFromName(n))
            kinds.append(*k);
    return kinds;
}

void Settings::setNotifyKinds(const QList<EventKind> &kinds)
{
    QStringList names;
    for (EventKind k : kinds)
        names.append(catalog::name(k));
    QSettings().setValue(NotifyKinds, names);
}

QString Settings::recordEngine() const { return QSettings().value(RecordEngine, u"ws://127.0.0.1:3000/ws"_s).toString(); }
void Settings::setRecordEngine(const QString &url) { QSettings().setValue(RecordEngine, url); }

QByteArray Settings::layout() const
{
    QSettings s;
    const QVariant last = s.value(WindowState);
    return m_group.isEmpty() ? last.toByteArray() : s.value(m_group + Layout, last).toByteArray();
}

void Settings::setLayout(const QByteArray &state)
{
    if (!m_group.isEmpty())
        QSettings().setValue(m_group + Layout, state);
}

QByteArray Settings::columns() const
{
    return m_group.isEmpty() ? QByteArray() : QSettings().value(m_group + Columns).toByteArray();
}

void Settings::setColumns(const QByteArray &state)
{
    if (!m_group.isEmpty())
        QSettings().setValue(m_group + Columns, state);
}

FilterState Settings::filters() const
{
    FilterState f;
    if (m_group.isEmpty())
        return f;
    QSettings s;
    f.world = s.value(m_group + FilterWorld).toString();
    for (const QString &name : s.value(m_group + FilterTypes).toStringList()) {
        if (const auto kind = catalog::kindFromName(name))
            f.kinds.append(*kind);
        else if (engine::areaOf(name))
            f.tags.append(name);  // a message of today's engine, by its tag
    }
    f.hideProgress = s.value(m_group + FilterHideProgress).toBool();
    f.text = s.value(m_group + FilterText).toString();
    f.sinceSeconds = std::max(0, s.value(m_group + FilterSince).toInt());
    return f;
}

void Settings::setFilters(const FilterState &f)
{
    if (m_group.isEmpty())
        return;
    QSettings s;
    s.setValue(m_group + FilterWorld, f.world);
    QStringList types;
    for (EventKind k : f.kinds)
        types.append(catalog::name(k));
    types.append(f.tags);
    s.setValue(m_group + FilterTypes, types);
    s.setValue(m_group + FilterHideProgress, f.hideProgress);
    s.setValue(m_group + FilterText, f.text);
    s.setValue(m_group + FilterSince, f.sinceSeconds);
}

} // namespace eventdesk
