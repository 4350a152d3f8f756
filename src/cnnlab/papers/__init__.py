"""The lecture's and the papers' published tables beside cnnlab's numbers.

  tables           the published numbers, each with its source
  compare          the conv-vs-FC shares, VGG-16 and CIFAR ResNet tables, cnnlab's rows beside
  googlenet_table  GoogLeNet's Table 1, row by row
  explain          why a cnnlab number differs from a published one, recomputed on each run
  paper_table      the table object, what the builders share, and the tables as Markdown
  chart            ImageNet top-1 accuracy against MACs for the zoo
"""
