// The log's filter bar: world, type, progress rows, time and text. It sets
// the LogFilter as the DM changes a widget, and shows the filter's state when
// it is restored or cleared; the window lays it out and follows the filter.
#pragma once

#include <QToolBar>

#include <functional>
#include <utility>

class QComboBox;
class QLineEdit;
class QTimer;
class QToolButton;

namespace eventdesk {

class LogFilter;
class TypeFilter;

class FilterBar final : public QToolBar
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FilterBar)
public:
    // nameOf: the display name of a world id (the id itself when it has none).
    FilterBar(LogFilter &filter, std::function<QString(const QString &)> nameOf, QWidget *parent = nullptr);

    QComboBox *world() const { return m_world; }
    TypeFilter *type() const { return m_type; }
    QToolButton *hideProgress() const { return m_hideProgress; }
    QLineEdit *text() const { return m_text; }
    QComboBox *since() const { return m_since; }

    // The widgets show the filter's state (after restore() or clear()).
    void showState();
    // The worlds to pick from, by id, in order; the one picked stays picked
    // though the list does not (yet) hold it.
    void setWorlds(const QStringList &ids);
    bool listsWorld(const QString &id) const;
    // The worlds listed: (id, name), without "All worlds" and "(no world)".
    QList<std::pair<QString, QString>> worlds() const;
    // The time filter as it reads ("Last hour"); empty for any time.
    QString sinceText() const;

Q_SIGNALS:
    // The DM touched a filter, even to leave it as it was (a "view as" ends).
    void touched();

private:
    void addWorld(const QString &id);

    LogFilter &m_filter;
    std::function<QString(const QString &)> m_nameOf;
    QComboBox *m_world;
    TypeFilter *m_type;
    QToolButton *m_hideProgress;
    QComboBox *m_since;
    QLineEdit *m_text;
    QTimer *m_textDelay;
};

} // namespace eventdesk
