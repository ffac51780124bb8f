from django.views import View


class CallbackView(View):
    pass
