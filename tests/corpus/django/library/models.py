"""No models here on purpose: the corpus is the migrations, whose state Django rebuilds itself."""
