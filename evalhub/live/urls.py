from django.urls import path

from evalhub.live import views

app_name = "live"
urlpatterns = [
    path("<slug:slug>/", views.entry, name="entry"),
    path("<slug:slug>/staff/", views.staff_entry, name="staff_entry"),
    path("<slug:slug>/consent/", views.consent, name="consent"),
    path("<slug:slug>/chat/", views.chat, name="chat"),
    path("<slug:slug>/c/<str:token>/send/", views.send_needs_asgi, name="send"),
    path("<slug:slug>/c/<str:token>/label/", views.label, name="label"),
    path("<slug:slug>/c/<str:token>/vote/", views.vote, name="vote"),
    path("<slug:slug>/c/<str:token>/end/", views.end, name="end"),
    path("<slug:slug>/done/", views.done, name="done"),
    path("<slug:slug>/export/", views.export, name="export"),
]
