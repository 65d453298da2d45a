import django,os,time,sys;os.environ.setdefault('DJANGO_SETTINGS_MODULE','cloudcore_crm.settings');django.setup()
from pathlib import Path
from customers.demo import ensure_demo_users
users,_=ensure_demo_users()
from migration.services import run_import
from django.test.utils import override_settings
only = sys.argv[1:] or ['client_master.xlsx']
with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
    run=run_import(paths=[Path('var/estate10k')/n for n in only], actor=users['data_steward'])
for f in run.report['files']: print(f['name'], round(f['seconds'],2), 'write', round(f['write_seconds'],2), file=sys.stderr)
