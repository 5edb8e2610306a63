from django.urls import path

from evalhub.rating import views

app_name = "rating"
urlpatterns = [
    path("s/<slug:slug>/", views.crowd_entry, name="entry"),
    path("s/<slug:slug>/consent/", views.crowd_consent, name="consent"),
    path("s/<slug:slug>/rate/", views.crowd_rate, name="rate"),
    path("s/<slug:slug>/done/", views.crowd_done, name="done"),
    path("rate/<slug:slug>/", views.author_rate, name="author_rate"),
]
