#include "FilterBar.h"

#include "LogFilter.h"
#include "PlainText.h"
#include "TypeFilter.h"

#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QSignalBlocker>
#include <QTimer>
#include <QToolButton>

using namespace Qt::StringLiterals;

namespace eventdesk {

FilterBar::FilterBar(LogFilter &filter, std::function<QString(const QString &)> nameOf, QWidget *parent)
    : QToolBar(tr("Filter"), parent)
    , m_filter(filter)
    , m_nameOf(std::move(nameOf))
    , m_world(new QComboBox(this))
    , m_type(new TypeFilter(this))
    , m_hideProgress(new QToolButton(this))
    , m_since(new QComboBox(this))
    , m_text(new QLineEdit(this))
    , m_textDelay(new QTimer(this))
{
    setObjectName(u"filterBar"_s);
    setMovable(false);
    m_world->setMinimumContentsLength(14);
    m_world->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_world->addItem(tr("All worlds"), QString());
    m_world->addItem(tr("(no world)"), QString::fromLatin1(NoWorldFilter));
    m_text->setPlaceholderText(tr("Search the payloads…"));
    m_text->setClearButtonEnabled(true);

    addWidget(new QLabel(tr(" World "), this));
    addWidget(m_world);
    addWidget(new QLabel(tr("  Type "), this));
    addWidget(m_type);
    // One click hides the many *Progress rows of generation and suggestion jobs.
    m_hideProgress->setText(tr("Hide progress"));
    m_hideProgress->setCheckable(true);
    m_hideProgress->setToolTip(tr("Leave out GenerationBatchProgress and SuggestionProgress"));
    addWidget(m_hideProgress);
    m_since->setObjectName(u"sinceFilter"_s);
    m_since->addItem(tr("Any time"), 0);
    m_since->addItem(tr("Last 15 minutes"), 15 * 60);
    m_since->addItem(tr("Last hour"), 3600);
    m_since->addItem(tr("Last 4 hours"), 4 * 3600);
    m_since->addItem(tr("Last 24 hours"), 24 * 3600);
    m_since->addItem(tr("Last 7 days"), 7 * 24 * 3600);
    m_since->setToolTip(tr("Only events created in this time"));
    addWidget(new QLabel(u"  "_s, this));
    addWidget(m_since);
    addWidget(new QLabel(u"  "_s, this));
    m_text->setMinimumWidth(160);
    m_text->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    addWidget(m_text);

    // The bar sets the filter; the filter says what changed (LogFilter::changed).
    m_textDelay->setSingleShot(true);
    m_textDelay->setInterval(250);
    connect(m_textDelay, &QTimer::timeout, this, [this] {
        m_filter.setText(m_text->text());
        Q_EMIT touched();
    });
    connect(m_text, &QLineEdit::textChanged, m_textDelay, qOverload<>(&QTimer::start));
    // The world list is rebuilt with its signals blocked: a change here is the DM's (or a test's) choice.
    connect(m_world, &QComboBox::currentIndexChanged, this, [this] {
        m_filter.setWorld(m_world->currentData().toString());
        Q_EMIT touched();
    });
    connect(m_world, &QComboBox::activated, this, &FilterBar::touched);
    connect(m_type, &TypeFilter::changed, this, [this] {
        m_filter.setTypes(m_type->kinds(), m_type->tags());
        Q_EMIT touched();
    });
    connect(m_hideProgress, &QToolButton::clicked, this, [this](bool on) {
        m_filter.setHideProgress(on);
        Q_EMIT touched();
    });
    connect(m_since, &QComboBox::activated, this, [this] {
        m_filter.setSince(m_since->currentData().toInt());
        Q_EMIT touched();
    });
}

void FilterBar::showState()
{
    const FilterState &f = m_filter.state();
    {
        const QSignalBlocker block(m_text);  // one reload, not one after the text delay as well
        m_text->setText(f.text);
        m_textDelay->stop();
    }
    m_hideProgress->setChecked(f.hideProgress);
    {
        const QSignalBlocker block(m_type);
        m_type->setTypes(f.kinds, f.tags);
    }
    const QSignalBlocker block(m_world);
    if (!f.world.isEmpty() && m_world->findData(f.world) < 0)
        addWorld(f.world);
    m_world->setCurrentIndex(std::max(0, m_world->findData(f.world)));
    m_since->setCurrentIndex(std::max(0, m_since->findData(f.sinceSeconds)));
}

void FilterBar::addWorld(const QString &id)
{
    m_world->addItem(m_nameOf(id), id);
    m_world->setItemData(m_world->count() - 1, plain::toolTip(id), Qt::ToolTipRole);
}

void FilterBar::setWorlds(const QStringList &ids)
{
    const QString current = m_world->currentData().toString();
    const QSignalBlocker block(m_world);  // the list changes, not the DM's choice
    while (m_world->count() > 2)
        m_world->removeItem(2);
    for (const QString &w : ids)
        addWorld(w);
    if (!current.isEmpty() && m_world->findData(current) < 0)
        addWorld(current);  // the list comes from the index and the newest rows
    m_world->setCurrentIndex(std::max(0, m_world->findData(current)));
}

bool FilterBar::listsWorld(const QString &id) const { return m_world->findData(id) >= 0; }

QList<std::pair<QString, QString>> FilterBar::worlds() const
{
    QList<std::pair<QString, QString>> out;
    for (int i = 2; i < m_world->count(); ++i)
        out.append({m_world->itemData(i).toString(), m_world->itemText(i)});
    return out;
}

QString FilterBar::sinceText() const
{
    const int i = m_since->findData(m_filter.state().sinceSeconds);
    return i > 0 ? m_since->itemText(i) : QString();
}

} // namespace eventdesk
