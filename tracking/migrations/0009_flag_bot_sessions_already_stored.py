"""Flag the bot sessions stored before ingestion flagged them.

Their user agent is gone; what is left is ua-parser's verdict (device type
"bot" for spiders) and the browser family it read (e.g. "Python-urllib"), which
the crawler list still recognises. A headless Chrome was stored as "Chrome" and
stays unflagged.
"""

from django.db import migrations


def flag(apps, schema_editor):
    import crawleruseragents

    Session = apps.get_model("tracking", "Session")
    Session.objects.filter(device_type="bot").update(is_bot=True)
    families = Session.objects.order_by().values_list("browser", flat=True).distinct()
    bots = [f for f in families if f and f != "Other" and crawleruseragents.is_crawler(f)]
    if bots:
        Session.objects.filter(browser__in=bots).update(is_bot=True)


class Migration(migrations.Migration):
    dependencies = [("tracking", "0008_session_bot_flag_and_internal_users")]

    operations = [migrations.RunPython(flag, migrations.RunPython.noop, elidable=True)]
