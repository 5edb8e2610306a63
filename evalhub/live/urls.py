from django.urls import path

from evalhub.live import views

app_name = "live"
urlpatterns = [
    path("<slug:crowd_code>/", views.entry, name="entry"),
    path("<slug:crowd_code>/staff/", views.staff_entry, name="staff_entry"),
    path("<slug:crowd_code>/consent/", views.consent, name="consent"),
    path("<slug:crowd_code>/chat/", views.chat, name="chat"),
    path("<slug:crowd_code>/c/<str:token>/send/", views.send_needs_asgi, name="send"),
    path("<slug:crowd_code>/c/<str:token>/label/", views.label, name="label"),
    path("<slug:crowd_code>/c/<str:token>/vote/", views.vote, name="vote"),
    path("<slug:crowd_code>/c/<str:token>/end/", views.end, name="end"),
    path("<slug:crowd_code>/done/", views.done, name="done"),
    path("<slug:crowd_code>/export/", views.export, name="export"),
]
